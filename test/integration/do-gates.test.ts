/**
 * Execution semantics of Durable Objects through the real CLI (two isolates, so callers reach
 * objects both in their own isolate and across isolates):
 * - one live instance per id, events delivered one at a time, in-memory state kept between events;
 * - the input gate: 200 concurrent get-then-put increments end at exactly 200, while a `fetch()`
 *   inside a handler lets another event in;
 * - `blockConcurrencyWhile` in the constructor delays every event until it settles; a throw there
 *   reaches the caller with `remote` and the next event constructs the object again;
 * - `ctx.abort()` resets the object, dropping the writes of its turn.
 * Output gate failures and write coalescing are in do-output-gate.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eventually } from "../helpers/ledge.js";
import { json, serveProject, wranglerToml, type DoProject } from "./do-helpers.js";

const WORKER = `
import { DurableObject } from "cloudflare:workers";

function errorInfo(e) {
  return { error: e.name, message: e.message, remote: e.remote === true };
}

export class Gate extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.token = crypto.randomUUID();
    this.active = 0;
    this.maxActive = 0;
    this.hits = 0;
  }
  async increment() {
    const n = ((await this.ctx.storage.get("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", n);
    return n;
  }
  async count() {
    return (await this.ctx.storage.get("n")) ?? 0;
  }
  /** Many storage awaits in a row: no other event may run in between. */
  async busy() {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    for (let i = 0; i < 20; i++) await this.ctx.storage.put("k" + (i % 4), i);
    for (let i = 0; i < 20; i++) await this.ctx.storage.get("k" + (i % 4));
    this.active--;
    return this.token;
  }
  stats() {
    return { token: this.token, maxActive: this.maxActive, active: this.active };
  }
  hit() {
    return ++this.hits;
  }
  /** Awaits a subrequest: the input gate opens, so another event may run meanwhile. */
  async slowFetch(url) {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    await (await fetch(url)).text();
    const seen = this.active;
    this.active--;
    return seen;
  }
  /** Returns at once; the work registered with ctx.waitUntil finishes later. */
  later() {
    this.ctx.waitUntil(new Promise((r) => setTimeout(r, 100)).then(() => this.ctx.storage.put("later", "done")));
    return "returned";
  }
  async readLater() {
    return (await this.ctx.storage.get("later")) ?? null;
  }
  async writeCommitted() {
    await this.ctx.storage.put("committed", "yes");
  }
  async abortAfterWrite() {
    this.memory = "set before abort";
    this.ctx.storage.put("uncommitted", "should be dropped");
    this.ctx.abort("aborted on purpose");
  }
  async afterAbort() {
    return {
      token: this.token,
      memory: this.memory ?? null,
      committed: (await this.ctx.storage.get("committed")) ?? null,
      uncommitted: (await this.ctx.storage.get("uncommitted")) ?? null,
    };
  }
}

const attempts = new Map();

export class Slow extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.ready = false;
    ctx.blockConcurrencyWhile(async () => {
      await new Promise((r) => setTimeout(r, 300));
      await ctx.storage.put("started", Date.now());
      this.ready = true;
    });
  }
  async isReady() {
    return { ready: this.ready, started: await this.ctx.storage.get("started") };
  }
}

export class Flaky extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    const name = ctx.id.name;
    attempts.set(name, (attempts.get(name) ?? 0) + 1);
    this.attempt = attempts.get(name);
    ctx.blockConcurrencyWhile(async () => {
      await new Promise((r) => setTimeout(r, 50));
      if (this.attempt === 1) throw new TypeError("first start fails");
    });
  }
  hello() {
    return { attempt: this.attempt };
  }
}

async function settle(p) {
  try {
    return { ok: await p };
  } catch (e) {
    return errorInfo(e);
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "x";
    try {
      switch (url.pathname) {
        case "/sleep":
          await new Promise((r) => setTimeout(r, Number(url.searchParams.get("ms"))));
          return new Response("slept");
        case "/increment":
          return Response.json(await env.GATE.getByName(name).increment());
        case "/count":
          return Response.json(await env.GATE.getByName(name).count());
        case "/busy":
          return Response.json(await env.GATE.getByName(name).busy());
        case "/stats":
          return Response.json(await env.GATE.getByName(name).stats());
        case "/hit":
          return Response.json(await env.GATE.getByName(name).hit());
        case "/interleave": {
          const stub = env.GATE.getByName(name);
          const slow = stub.slowFetch(url.origin + "/sleep?ms=300");
          // Give the slow call time to start and reach its fetch.
          await new Promise((r) => setTimeout(r, 100));
          const during = await stub.stats();
          return Response.json({ during, seenBySlow: await slow });
        }
        case "/later":
          return Response.json(await env.GATE.getByName(name).later());
        case "/readLater":
          return Response.json(await env.GATE.getByName(name).readLater());
        case "/abort": {
          const stub = env.GATE.getByName(name);
          const before = await stub.stats();
          await stub.writeCommitted();
          const aborted = await settle(stub.abortAfterWrite());
          return Response.json({ before, aborted, after: await stub.afterAbort() });
        }
        case "/slow":
          return Response.json(await env.SLOW.getByName(name).isReady());
        case "/flaky":
          return Response.json(await settle(env.FLAKY.getByName(name).hello()));
      }
    } catch (e) {
      return Response.json(errorInfo(e), { status: 500 });
    }
    return new Response("not found", { status: 404 });
  },
};
`;

let p: DoProject;

before(async () => {
  p = await serveProject({ "wrangler.toml": wranglerToml({ classes: ["Gate", "Slow", "Flaky"] }), "src/index.js": WORKER }, ["--isolates", "2"]);
});

after(async () => {
  await p?.close();
});

const get = async (path: string) => {
  const r = await json(`${p.url}${path}`);
  assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
  return r.body;
};

describe("Durable Object execution semantics", () => {
  test("input gate: 200 concurrent get-then-put increments end at exactly 200", async () => {
    const results = await Promise.all(Array.from({ length: 200 }, () => get("/increment?name=counter")));
    assert.deepEqual(
      [...results].sort((a, b) => a - b),
      Array.from({ length: 200 }, (_, i) => i + 1),
      "every increment saw a distinct value",
    );
    assert.equal(await get("/count?name=counter"), 200);
  });

  test("one live instance per id, and events that await only storage never overlap", async () => {
    const tokens = await Promise.all(Array.from({ length: 60 }, () => get("/busy?name=single")));
    assert.equal(new Set(tokens).size, 1, "every event saw the same instance");
    const stats = await get("/stats?name=single");
    assert.equal(stats.token, tokens[0]);
    assert.equal(stats.maxActive, 1, "no two events ran at the same time");
  });

  test("in-memory state persists between events", async () => {
    assert.equal(await get("/hit?name=memory"), 1);
    assert.equal(await get("/hit?name=memory"), 2);
    assert.equal(await get("/hit?name=memory"), 3);
  });

  test("a fetch() inside a handler opens the input gate: another event runs meanwhile", async () => {
    const r = await get("/interleave?name=interleave");
    assert.equal(r.during.active, 1, "stats() ran while slowFetch() awaited its subrequest");
    assert.equal(r.seenBySlow, 1);
  });

  test("blockConcurrencyWhile in the constructor delays every event until it resolves", async () => {
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 10 }, () => get("/slow?name=slow")));
    const elapsed = Date.now() - t0;
    for (const r of results) {
      assert.equal(r.ready, true, "no event ran before the constructor's callback finished");
      assert.equal(typeof r.started, "number");
    }
    assert.equal(new Set(results.map((r) => r.started)).size, 1, "the callback ran once");
    assert.ok(elapsed >= 290, `events waited for the 300 ms callback (took ${elapsed} ms)`);
  });

  test("a throw in blockConcurrencyWhile reaches the caller with remote = true and resets the object", async () => {
    const first = await get("/flaky?name=flaky");
    assert.deepEqual(first, { error: "TypeError", message: "first start fails", remote: true });
    const second = await get("/flaky?name=flaky");
    assert.deepEqual(second, { ok: { attempt: 2 } }, "the next event constructed the object again");
  });

  test("ctx.abort() resets the object: the caller gets an error, memory is gone, the turn's writes are dropped", async () => {
    const r = await get("/abort?name=abort");
    assert.equal(r.aborted.error, "Error");
    assert.match(r.aborted.message, /aborted on purpose/);
    assert.notEqual(r.after.token, r.before.token, "a new instance answers after the abort");
    assert.equal(r.after.memory, null);
    assert.equal(r.after.committed, "yes", "writes of earlier events stay");
    assert.equal(r.after.uncommitted, null, "the aborting turn's write is dropped");
  });

  test("work registered with ctx.waitUntil finishes after the event returned", async () => {
    assert.equal(await get("/later?name=later"), "returned");
    assert.equal(await eventually(() => get("/readLater?name=later"), "the waitUntil work to write its key"), "done");
  });
});
