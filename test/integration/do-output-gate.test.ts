/**
 * The output gate and write coalescing through the real CLI, with commits that really fail.
 *
 * A user cannot fill the disk or change SQLite's page limit (those pragmas are refused), but a
 * foreign key declared `DEFERRABLE INITIALLY DEFERRED` is checked only at COMMIT: an insert that
 * violates it succeeds, and the turn's COMMIT then fails. That is an honest commit failure, reached
 * through the public SQL API, and it exercises the same path as an I/O error at commit would.
 * Checked: the caller sees an error instead of the result, every write of the failed turn is gone
 * (they were one atomic batch), writes of earlier turns stay, the object is reset (memory gone, a
 * new instance answers), and a WebSocket message sent in the failed turn is never delivered, also
 * by an instance created after a reset.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eventually } from "../helpers/ledge.js";
import { json, openSocket, serveProject, wranglerToml, type DoProject } from "./do-helpers.js";

const WORKER = `
import { DurableObject } from "cloudflare:workers";

export class Ledger extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.token = crypto.randomUUID();
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS parent (id INTEGER PRIMARY KEY);" +
        "CREATE TABLE IF NOT EXISTS child (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)",
    );
  }
  /** Writes that make this turn's COMMIT fail. */
  #poison() {
    this.ctx.storage.sql.exec("INSERT INTO child (pid) VALUES (999)");
  }
  async setup() {
    await this.ctx.storage.put("before", "kept");
    this.ctx.storage.sql.exec("INSERT INTO parent (id) VALUES (1); INSERT INTO child (pid) VALUES (1)");
    return this.token;
  }
  async failInOneTurn() {
    this.memory = "stale";
    this.ctx.storage.put("a", 1);
    this.ctx.storage.put("b", 2);
    this.ctx.storage.sql.exec("INSERT INTO parent (id) VALUES (2)");
    this.#poison();
    return "this result must never be delivered";
  }
  async failInSecondTurn() {
    await this.ctx.storage.put("early", "first turn");
    // A timer ends the turn: the first turn's batch commits on its own.
    await new Promise((r) => setTimeout(r, 10));
    this.ctx.storage.put("late", "second turn");
    this.#poison();
    return "this result must never be delivered";
  }
  /** A write, then a subrequest: the event is still running when the next event breaks the batch. */
  async writeThenFetch(url) {
    this.ctx.storage.put("slow", "written before the subrequest");
    await (await fetch(url)).text();
    return "this result must never be delivered";
  }
  async poison() {
    this.#poison();
  }
  async state() {
    const s = this.ctx.storage;
    const m = await s.get(["a", "b", "before", "early", "late", "slow"]);
    return {
      token: this.token,
      memory: this.memory ?? null,
      keys: Object.fromEntries(m),
      parents: s.sql.exec("SELECT id FROM parent ORDER BY id").toArray().map((r) => r.id),
      children: s.sql.exec("SELECT count(*) AS n FROM child").one().n,
    };
  }
  async fetch(request) {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }
  async webSocketMessage(ws, message) {
    if (message === "fail") {
      this.#poison();
      ws.send("leaked: sent in a turn whose commit failed");
    } else {
      this.ctx.storage.put("seen", message);
      ws.send(JSON.stringify({ token: this.token, echo: message }));
    }
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const stub = env.LEDGER.getByName(url.searchParams.get("name") ?? "x");
    if (url.pathname === "/ws") return stub.fetch(request);
    if (url.pathname === "/shared-batch") {
      // Both events reach the object in one turn, so their writes share one batch.
      const slow = stub.writeThenFetch(url.origin + "/sleep");
      const poison = stub.poison();
      const outcome = async (p) => p.then((v) => ({ ok: v ?? null }), (e) => ({ error: e.message }));
      return Response.json({ poison: await outcome(poison), slow: await outcome(slow) });
    }
    if (url.pathname === "/sleep") {
      await new Promise((r) => setTimeout(r, 300));
      return new Response("slept");
    }
    try {
      return Response.json({ ok: await stub[url.pathname.slice(1)]() });
    } catch (e) {
      return Response.json({ error: e.name, message: e.message, remote: e.remote === true }, { status: 500 });
    }
  },
};
`;

let p: DoProject;

before(async () => {
  p = await serveProject({ "wrangler.toml": wranglerToml({ classes: ["Ledger"] }), "src/index.js": WORKER }, ["--isolates", "2"]);
});

after(async () => {
  await p?.close();
});

describe("output gate and write coalescing", () => {
  test("a failed commit: the caller gets an error, the whole turn is gone, the object is reset", async () => {
    const setup = await json(`${p.url}/setup?name=one-turn`);
    assert.equal(setup.status, 200);
    const failed = await json(`${p.url}/failInOneTurn?name=one-turn`);
    assert.equal(failed.status, 500, "the result was held back");
    assert.match(failed.body.message, /failed to commit.*FOREIGN KEY/);
    assert.doesNotMatch(JSON.stringify(failed.body), /never be delivered/);

    const { body } = await json(`${p.url}/state?name=one-turn`);
    assert.notEqual(body.ok.token, setup.body.ok, "a new instance answers");
    assert.equal(body.ok.memory, null, "the failed instance's memory is gone");
    assert.deepEqual(body.ok.keys, { before: "kept" }, "puts of the failed turn are gone together; earlier writes stay");
    assert.deepEqual(body.ok.parents, [1], "SQL writes of the failed turn are gone with the puts");
    assert.equal(body.ok.children, 1);
  });

  test("writes coalesce per turn: a turn that committed stays when a later turn's commit fails", async () => {
    const failed = await json(`${p.url}/failInSecondTurn?name=two-turns`);
    assert.equal(failed.status, 500);
    assert.match(failed.body.message, /failed to commit/);
    const { body } = await json(`${p.url}/state?name=two-turns`);
    assert.deepEqual(body.ok.keys, { early: "first turn" });
  });

  test("a WebSocket message sent in a turn whose commit fails is never delivered, before and after a reset", async () => {
    const ws = await openSocket(`${p.url}/ws?name=socket`);
    try {
      let token = JSON.parse(await ws.ask("hello")).token as string;
      for (const round of [1, 2]) {
        ws.ws.send("fail");
        // Events that reach the object before the failed COMMIT share its batch and are dropped
        // with it, so wait until a new instance answers before talking on the socket again.
        const previous = token;
        token = await eventually(async () => {
          const { status, body } = await json(`${p.url}/state?name=socket`);
          return status === 200 && body.ok.token !== previous ? (body.ok.token as string) : null;
        }, `a new instance after failed commit ${round}`);
        // Had the failed turn's message been released, it would arrive before this answer.
        const answer = await ws.ask(`after failure ${round}`);
        assert.doesNotMatch(answer, /leaked/, `round ${round}`);
        assert.deepEqual(JSON.parse(answer), { token, echo: `after failure ${round}` });
      }
    } finally {
      ws.close();
    }
  });

  test("an event still running when its batch fails to commit does not deliver its result", async () => {
    const { status, body } = await json(`${p.url}/shared-batch?name=shared-batch`);
    assert.equal(status, 200, JSON.stringify(body));
    assert.match(body.poison.error, /failed to commit/);
    const { body: after } = await json(`${p.url}/state?name=shared-batch`);
    assert.equal(after.ok.keys.slow, undefined, "the slow event's write went down with the batch");
    assert.ok(body.slow.error, `so its result must not be delivered: ${JSON.stringify(body.slow)}`);
  });
});
