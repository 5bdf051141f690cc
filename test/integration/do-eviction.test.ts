/**
 * Idle eviction through the real CLI (`--object-idle-ms 300`): in-memory state lives between
 * events, an idle object is evicted and re-created from storage on the next event (its constructor
 * runs again; constructions are counted in storage), and a standard (non-hibernatable) WebSocket
 * pins its object in memory.
 *
 * Eviction is observed without waking the object: evicting closes the object's SQLite file, and
 * closing the last connection of a WAL database removes its `-wal` file.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eventually } from "../helpers/ledge.js";
import { json, openSocket, serveProject, wranglerToml, type DoProject } from "./do-helpers.js";

const WORKER = `
import { DurableObject } from "cloudflare:workers";

/** Ticks counted per instance (by token), in this isolate's memory. */
const ticks = new Map();

export class Keeper extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.token = crypto.randomUUID();
    this.hits = 0;
    ctx.blockConcurrencyWhile(async () => {
      this.constructions = ((await ctx.storage.get("constructions")) ?? 0) + 1;
      await ctx.storage.put("constructions", this.constructions);
    });
  }
  async visit(value) {
    this.hits++;
    if (value !== undefined) await this.ctx.storage.put("value", value);
    return { token: this.token, hits: this.hits, constructions: this.constructions, value: (await this.ctx.storage.get("value")) ?? null };
  }
  startTicking() {
    ticks.set(this.token, 0);
    setInterval(() => ticks.set(this.token, ticks.get(this.token) + 1), 20);
    return this.token;
  }
  ticksOf(token) {
    return ticks.get(token) ?? null;
  }
  async fetch(request) {
    const pair = new WebSocketPair();
    const server = pair[1];
    server.accept();
    server.addEventListener("message", (event) => server.send(JSON.stringify({ token: this.token, echo: event.data })));
    return new Response(null, { status: 101, webSocket: pair[0] });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const name = url.searchParams.get("name");
    const stub = env.KEEPER.getByName(name);
    if (url.pathname === "/id") return Response.json(stub.id.toString());
    if (url.pathname === "/ws") return stub.fetch(request);
    if (url.pathname === "/start-ticking") return Response.json(await stub.startTicking());
    if (url.pathname === "/ticks") return Response.json(await stub.ticksOf(url.searchParams.get("token")));
    return Response.json(await stub.visit(url.searchParams.get("value") ?? undefined));
  },
};
`;

let p: DoProject;

before(async () => {
  p = await serveProject({ "wrangler.toml": wranglerToml({ name: "evict", classes: ["Keeper"] }), "src/index.js": WORKER }, [
    "--isolates",
    "2",
    "--object-idle-ms",
    "300",
  ]);
});

after(async () => {
  await p?.close();
});

async function visit(name: string, value?: string): Promise<{ token: string; hits: number; constructions: number; value: string | null }> {
  const r = await json(`${p.url}/visit?name=${name}${value ? `&value=${value}` : ""}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** The object's `-wal` file exists exactly while its storage is open. */
async function walPath(name: string): Promise<string> {
  const id = (await json<string>(`${p.url}/id?name=${name}`)).body;
  return join(p.stateDir, "do", "evict-Keeper", `${id}.sqlite-wal`);
}

describe("Durable Object idle eviction", () => {
  test("memory lives between events; an idle object is evicted and re-created from storage", async () => {
    const first = await visit("idle", "stored");
    assert.deepEqual({ ...first, token: "" }, { token: "", hits: 1, constructions: 1, value: "stored" });
    const second = await visit("idle");
    assert.equal(second.token, first.token);
    assert.equal(second.hits, 2, "in-memory state persists between events");

    const wal = await walPath("idle");
    assert.ok(existsSync(wal), "the object's storage is open while it lives");
    await eventually(() => !existsSync(wal), "the idle object to be evicted (its SQLite file closed)");

    const third = await visit("idle");
    assert.notEqual(third.token, first.token, "a new instance");
    assert.equal(third.hits, 1, "memory started afresh");
    assert.equal(third.constructions, 2, "the constructor ran again");
    assert.equal(third.value, "stored", "storage survived the eviction");
  });

  test("a standard WebSocket accepted by the object pins it in memory", async () => {
    const ws = await openSocket(`${p.url}/ws?name=pinned`);
    try {
      const before = JSON.parse(await ws.ask("one"));
      await visit("pinned", "x");
      const pinnedWal = await walPath("pinned");
      // A second object, last touched after the pinned one, is the clock: once it is evicted, the
      // pinned object has been idle for longer than the idle time too.
      await visit("clock", "x");
      const clockWal = await walPath("clock");
      await eventually(() => !existsSync(clockWal), "the unpinned object to be evicted");
      assert.ok(existsSync(pinnedWal), "the object with an open WebSocket is still in memory");
      const after = JSON.parse(await ws.ask("two"));
      assert.equal(after.token, before.token, "the same instance answers on the socket");
      assert.equal((await visit("pinned")).constructions, 1);
    } finally {
      ws.close();
    }
  });

  test("an evicted instance's timers are cancelled: it never runs again", async () => {
    const token = (await json<string>(`${p.url}/start-ticking?name=ticker`)).body;
    const wal = await walPath("ticker");
    await eventually(async () => (await json(`${p.url}/ticks?name=ticker&token=${token}`)).body >= 3, "the interval to tick");
    await eventually(() => !existsSync(wal), "the idle object to be evicted despite its interval");
    // Asked of the new instance (same isolate): the old instance's count must stay put from now on.
    const atEviction = (await json(`${p.url}/ticks?name=ticker&token=${token}`)).body;
    await visit("ticker-clock", "x");
    const clockWal = await walPath("ticker-clock");
    await eventually(() => !existsSync(clockWal), "a later object's eviction, as a clock of 300 ms");
    assert.equal((await json(`${p.url}/ticks?name=ticker&token=${token}`)).body, atEviction, "the evicted instance's interval stopped");
  });
});
