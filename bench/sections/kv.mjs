/**
 * KV namespaces (issue #4): `get` of one hot key, `get` of random keys among 100,000, and `put` of
 * random keys, each through a Worker. The 100,000 keys are written beforehand with the CLI
 * (`ledge kv bulk put`) into the project's persist directory, which `ledge serve` then opens.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadScenario, orSkip, probe } from "../lib/measure.mjs";
import { capture, stop, track } from "../lib/procs.mjs";
import { writeProject, wranglerToml } from "../lib/project.mjs";
import { LEDGE_BIN, REPO, startLedge } from "../lib/servers.mjs";
import { reqs } from "../lib/report.mjs";

const KEYS = 100_000;
/** A value of about the size of a small JSON document. */
const VALUE = "v".repeat(100);

const WORKER = `export default {
  async fetch(request, env) {
    const [, route, n] = new URL(request.url).pathname.split("/");
    if (route === "hot") {
      const v = await env.KV.get("hot");
      return v === null ? new Response("hot key missing", { status: 500 }) : new Response(v);
    }
    if (route === "get") {
      const v = await env.KV.get("k" + n);
      return v === null ? new Response("key k" + n + " missing", { status: 500 }) : new Response(v);
    }
    if (route === "put") {
      await env.KV.put("k" + n, "written " + n);
      return new Response("ok");
    }
    return new Response("no such route", { status: 404 });
  },
};
`;

const TOML = wranglerToml(
  "bench-kv",
  `
[[kv_namespaces]]
binding = "KV"
id = "bench-kv"
`,
);

export default {
  key: "kv",
  title: "KV namespaces (issue #4)",
  async run(ctx) {
    const dir = writeProject("kv", TOML, { "src/index.js": WORKER });
    const scenarios = { hotGet: null, randomGet: null, randomPut: null };
    let server;
    try {
      ctx.progress(`writing ${KEYS.toLocaleString("en-US")} keys with ledge kv bulk put`);
      await bulkPut(dir);
      server = await startLedge(dir, { readyPath: "/hot" });
    } catch (err) {
      const skipped = { skipped: err.message.split("\n")[0] };
      return { figures: { hotGet: skipped, randomGet: skipped, randomPut: skipped }, rows: [{ scenario: "KV", ...skipped }] };
    }
    try {
      ctx.progress("get, hot key");
      scenarios.hotGet = await orSkip(async () => {
        await probe(server.url + "/hot", { expectBody: (b) => b === VALUE });
        return loadScenario(ctx, server, { path: "/hot" });
      });
      ctx.progress(`get, random keys among ${KEYS}`);
      scenarios.randomGet = await orSkip(async () => {
        await probe(server.url + `/get/${KEYS - 1}`, { expectBody: (b) => b === VALUE });
        return loadScenario(ctx, server, { path: "/get/", randomCount: KEYS });
      });
      ctx.progress("put, random keys");
      scenarios.randomPut = await orSkip(async () => {
        await probe(server.url + "/put/0", { expectBody: (b) => b === "ok" });
        return loadScenario(ctx, server, { path: "/put/", randomCount: KEYS });
      });
    } finally {
      await server.stop();
    }
    const rows = [];
    const labels = { hotGet: "get, one hot key", randomGet: `get, random keys of ${KEYS.toLocaleString("en-US")}`, randomPut: "put, random keys" };
    for (const [k, f] of Object.entries(scenarios)) {
      if (f.skipped) rows.push({ scenario: labels[k], skipped: f.skipped });
      else {
        f.ratio = ctx.ratio(f.rps);
        rows.push({ scenario: labels[k], value: reqs(f.rps), ratio: f.ratio, p50Ms: f.p50Ms, p99Ms: f.p99Ms });
      }
    }
    return { figures: { keys: KEYS, valueBytes: VALUE.length, ...scenarios }, rows };
  },
};

/** Writes "hot" and k0..k<KEYS-1> through the CLI, as a user would seed a namespace. */
async function bulkPut(dir) {
  const items = [{ key: "hot", value: VALUE }];
  for (let i = 0; i < KEYS; i++) items.push({ key: `k${i}`, value: VALUE });
  const file = join(dir, "keys.json");
  writeFileSync(file, JSON.stringify(items));
  const child = track(process.execPath, [LEDGE_BIN, "kv", "bulk", "put", file, "--binding", "KV", "--cwd", dir], { cwd: REPO });
  const err = capture(child.stderr);
  capture(child.stdout);
  const guard = setTimeout(() => void stop(child), 120_000);
  const { code } = await child.exited;
  clearTimeout(guard);
  if (code !== 0) throw new Error(`ledge kv bulk put failed: ${err.text.trim().split("\n")[0] || `exit ${code}`}`);
}
