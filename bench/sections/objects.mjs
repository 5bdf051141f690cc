/**
 * Durable Objects (issue #3): Worker → object → response round trips through JS RPC, for one hot
 * object and spread over 1,000 objects; a durable `storage.put` per request on one object (the
 * output gate holds each answer until its write is committed, so this measures group commit); and
 * the extra time of the first request to an untouched object (which reads its storage) over the
 * same request to a warm object.
 */
import { loadScenario, orSkip, probe, Skip } from "../lib/measure.mjs";
import { request, sleep } from "../lib/net.mjs";
import { writeProject, durableObjectToml } from "../lib/project.mjs";
import { startLedge } from "../lib/servers.mjs";
import { median, round } from "../lib/stats.mjs";
import { ms, reqs } from "../lib/report.mjs";

/** Raw workerd on this machine kind (issue #3); the aim is twice each. */
const WORKERD = { hot: 0.084, many: 0.1, put: 0.038 };
const UNTOUCHED_EXTRA_MS = 1;
const OBJECTS = 1_000;
const UNTOUCHED_PAIRS = 20;

const WORKER = `import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  n = 0;
  hit() {
    return ++this.n;
  }
  async load() {
    // A first request usually reads the object's state: this opens its SQLite database.
    const saved = (await this.ctx.storage.get("count")) ?? 0;
    return saved + ++this.n;
  }
  async save() {
    const n = ++this.n;
    await this.ctx.storage.put("count", n);
    return n;
  }
}

export default {
  async fetch(request, env) {
    const [, route, name] = new URL(request.url).pathname.split("/");
    if (route === "hot") return new Response(String(await env.COUNTER.getByName("hot").hit()));
    if (route === "obj") return new Response(String(await env.COUNTER.getByName("o" + name).hit()));
    if (route === "load") return new Response(String(await env.COUNTER.getByName("l" + name).load()));
    if (route === "put") return new Response(String(await env.COUNTER.getByName("writer").save()));
    return new Response("no such route", { status: 404 });
  },
};
`;

const TOML = durableObjectToml("bench-objects", "COUNTER", "Counter");

const isCount = (body) => /^\d+$/.test(body);

export default {
  key: "objects",
  title: "Durable Objects (issue #3)",
  async run(ctx) {
    const dir = writeProject("objects", TOML, { "src/index.js": WORKER });
    let server;
    try {
      server = await startLedge(dir, { readyPath: "/hot" });
    } catch (err) {
      const reason = err.message.split("\n").join(" ");
      return skippedAll(reason);
    }
    const figures = {};
    try {
      ctx.progress("hot object");
      figures.hotObject = await orSkip(async () => {
        await probe(server.url + "/hot", { expectBody: isCount });
        return loadScenario(ctx, server, { path: "/hot" });
      });
      ctx.progress(`${OBJECTS} objects`);
      figures.manyObjects = await orSkip(async () => {
        await probe(server.url + "/obj/0", { expectBody: isCount });
        return loadScenario(ctx, server, { path: "/obj/", randomCount: OBJECTS });
      });
      ctx.progress("storage.put per request");
      figures.storagePut = await orSkip(async () => {
        const a = await probe(server.url + "/put", { expectBody: isCount });
        const b = await probe(server.url + "/put", { expectBody: isCount });
        if (Number(b.body) !== Number(a.body) + 1) throw new Skip(`storage.put counter went ${a.body} → ${b.body}`);
        return loadScenario(ctx, server, { path: "/put" });
      });
      ctx.progress("first request to an untouched object");
      await sleep(500);
      figures.untouchedObject = await orSkip(() => untouched(server, "load"));
      figures.untouchedObjectNoStorage = await orSkip(() => untouched(server, "obj"));
    } finally {
      await server.stop();
    }
    for (const k of ["hotObject", "manyObjects", "storagePut"]) {
      if (!figures[k].skipped) figures[k].ratio = ctx.ratio(figures[k].rps);
    }
    const row = (scenario, f, workerd) =>
      f.skipped
        ? { scenario, skipped: f.skipped }
        : {
            scenario,
            value: reqs(f.rps),
            ratio: f.ratio,
            p50Ms: f.p50Ms,
            p99Ms: f.p99Ms,
            target: `≥ ${round(workerd * 2, 3)} (workerd ${workerd})`,
            met: f.ratio === null ? null : f.ratio >= workerd * 2,
          };
    const untouchedRow = (scenario, u, what) =>
      u.skipped
        ? { scenario, skipped: u.skipped }
        : {
            scenario,
            value: ms(u.extraMs, 3),
            target: `< ${UNTOUCHED_EXTRA_MS} ms`,
            met: u.extraMs < UNTOUCHED_EXTRA_MS,
            note: `median of ${UNTOUCHED_PAIRS}: untouched ${u.untouchedMs} ms, warm ${u.warmMs} ms (${what}; one request at a time, new connection each)`,
          };
    return {
      figures,
      rows: [
        row("hot object, RPC round trip", figures.hotObject, WORKERD.hot),
        row(`${OBJECTS.toLocaleString("en-US")} objects, RPC round trip`, figures.manyObjects, WORKERD.many),
        row("storage.put per request (durable)", figures.storagePut, WORKERD.put),
        untouchedRow("untouched object + storage.get, extra over warm", figures.untouchedObject, "RPC that reads storage"),
        untouchedRow("untouched object, RPC only, extra over warm", figures.untouchedObjectNoStorage, "RPC, no storage"),
      ],
    };
  },
};

/**
 * Alternates requests to a warm object and to a never-used one, one at a time on fresh
 * connections, and reports the difference of the medians.
 */
async function untouched(server, route) {
  const warm = [];
  const cold = [];
  await probe(server.url + `/${route}/warm`, { expectBody: isCount });
  const nonce = Date.now().toString(36);
  for (let i = 0; i < UNTOUCHED_PAIRS; i++) {
    const w = await request(server.url + `/${route}/warm`);
    const c = await request(server.url + `/${route}/untouched-${nonce}-${i}`);
    if (w.status !== 200 || c.status !== 200) throw new Skip(`HTTP ${w.status}/${c.status} from the warm/untouched object`);
    if (c.body !== "1") throw new Skip(`an untouched object answered ${c.body}, expected its first hit`);
    warm.push(w.ms);
    cold.push(c.ms);
  }
  const w = median(warm);
  const c = median(cold);
  return { extraMs: round(c - w, 3), untouchedMs: round(c, 3), warmMs: round(w, 3) };
}

function skippedAll(reason) {
  const skipped = { skipped: reason };
  return {
    figures: { hotObject: skipped, manyObjects: skipped, storagePut: skipped, untouchedObject: skipped, untouchedObjectNoStorage: skipped },
    rows: [{ scenario: "Durable Objects", skipped: reason }],
  };
}
