/**
 * The Cache API (issue #4) through a Worker: a hit on `caches.default`, a miss (match on a key never
 * stored, then the Worker answers itself), and a miss followed by `put` in `ctx.waitUntil`, the
 * usual read-through pattern.
 */
import { loadScenario, orSkip, probe } from "../lib/measure.mjs";
import { writeProject, wranglerToml } from "../lib/project.mjs";
import { startLedge } from "../lib/servers.mjs";
import { reqs } from "../lib/report.mjs";

const WORKER = `const ORIGIN = "https://bench.example";
const fresh = () => new Response("Hello World!", { headers: { "content-type": "text/plain", "cache-control": "public, max-age=3600" } });

export default {
  async fetch(request, env, ctx) {
    const route = new URL(request.url).pathname;
    const cache = caches.default;
    if (route === "/hit") {
      const key = ORIGIN + "/hit";
      const hit = await cache.match(key);
      if (hit) return hit;
      await cache.put(key, fresh());
      return new Response("stored");
    }
    if (route === "/miss" || route === "/miss-put") {
      const key = ORIGIN + "/miss/" + crypto.randomUUID();
      if (await cache.match(key)) return new Response("a never-stored key was found", { status: 500 });
      const res = fresh();
      if (route === "/miss-put") ctx.waitUntil(cache.put(key, res.clone()));
      return res;
    }
    return new Response("no such route", { status: 404 });
  },
};
`;

export default {
  key: "cache",
  title: "Cache API (issue #4)",
  async run(ctx) {
    const dir = writeProject("cache", wranglerToml("bench-cache"), { "src/index.js": WORKER });
    const scenarios = { hit: null, miss: null, missThenPut: null };
    let server;
    try {
      server = await startLedge(dir, { readyPath: "/miss" });
    } catch (err) {
      const skipped = { skipped: err.message.split("\n")[0] };
      return { figures: { hit: skipped, miss: skipped, missThenPut: skipped }, rows: [{ scenario: "Cache API", ...skipped }] };
    }
    const isHello = (b) => b === "Hello World!";
    try {
      ctx.progress("hit");
      // The first request stores the entry; the probe's second must be served from the cache.
      scenarios.hit = await orSkip(async () => {
        await probe(server.url + "/hit", { expectBody: isHello, probeTwice: true });
        return loadScenario(ctx, server, { path: "/hit" });
      });
      ctx.progress("miss");
      scenarios.miss = await orSkip(async () => {
        await probe(server.url + "/miss", { expectBody: isHello });
        return loadScenario(ctx, server, { path: "/miss" });
      });
      ctx.progress("miss, then put");
      scenarios.missThenPut = await orSkip(async () => {
        await probe(server.url + "/miss-put", { expectBody: isHello });
        return loadScenario(ctx, server, { path: "/miss-put" });
      });
    } finally {
      await server.stop();
    }
    const labels = { hit: "hit (caches.default.match)", miss: "miss (match, no put)", missThenPut: "miss, then put in waitUntil" };
    const rows = [];
    for (const [k, f] of Object.entries(scenarios)) {
      if (f.skipped) rows.push({ scenario: labels[k], skipped: f.skipped });
      else {
        f.ratio = ctx.ratio(f.rps);
        rows.push({ scenario: labels[k], value: reqs(f.rps), ratio: f.ratio, p50Ms: f.p50Ms, p99Ms: f.p99Ms });
      }
    }
    return { figures: scenarios, rows };
  },
};
