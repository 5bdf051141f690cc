/**
 * Hibernatable WebSockets through the real CLI (`--hibernate-ms 300`, two isolates): an object
 * holding only sockets accepted with `ctx.acceptWebSocket` is evicted while they stay open; the
 * next message re-creates it (constructions are counted in storage) and calls `webSocketMessage`
 * with `ctx.id.name` set; attachments, tags and the auto-response survive; the auto-response
 * answers without waking the object and sets its timestamp; `getWebSockets(tag)`, `getTags`,
 * `webSocketClose`, and the hibernatable event timeout setting.
 *
 * Hibernation is observed without waking the object: evicting closes its SQLite file, and closing
 * the last connection of a WAL database removes its `-wal` file.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eventually } from "../helpers/ledge.js";
import { json, openSocket, serveProject, wranglerToml, type DoProject, type TestSocket } from "./do-helpers.js";

const WORKER = `
import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.token = crypto.randomUUID();
    this.ctorName = ctx.id.name ?? null;
    ctx.blockConcurrencyWhile(async () => {
      this.constructions = ((await ctx.storage.get("constructions")) ?? 0) + 1;
      await ctx.storage.put("constructions", this.constructions);
    });
  }
  async fetch(request) {
    const url = new URL(request.url);
    const user = url.searchParams.get("user");
    const tags = (url.searchParams.get("tags") ?? "").split(",").filter(Boolean);
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], tags);
    pair[1].serializeAttachment({ user, joinedAt: 1234, nested: { list: [1, 2, 3] } });
    // Set here rather than in the constructor, so that surviving hibernation is what is tested.
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    this.ctx.setHibernatableWebSocketEventTimeout(5000);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }
  info(ws) {
    const stamp = this.ctx.getWebSocketAutoResponseTimestamp(ws);
    const auto = this.ctx.getWebSocketAutoResponse();
    return {
      token: this.token,
      constructions: this.constructions,
      ctorName: this.ctorName,
      handlerName: this.ctx.id.name ?? null,
      attachment: ws.deserializeAttachment(),
      tags: this.ctx.getTags(ws),
      all: this.ctx.getWebSockets().length,
      red: this.ctx.getWebSockets("red").map((s) => s.deserializeAttachment().user),
      blue: this.ctx.getWebSockets("blue").map((s) => s.deserializeAttachment().user),
      none: this.ctx.getWebSockets("no-such-tag").length,
      autoResponse: auto ? [auto.request, auto.response] : null,
      autoResponseAt: stamp ? stamp.getTime() : null,
      eventTimeout: this.ctx.getHibernatableWebSocketEventTimeout(),
    };
  }
  async webSocketMessage(ws, message) {
    if (message === "info") return ws.send(JSON.stringify(this.info(ws)));
    if (message === "tags-of-other") {
      // A socket not accepted with acceptWebSocket (it pins the object in memory from now on).
      const pair = new WebSocketPair();
      pair[1].accept();
      try {
        this.ctx.getTags(pair[1]);
        return ws.send("no error");
      } catch (e) {
        return ws.send(e.name);
      }
    }
    if (message === "start-ticking") {
      this.ticks = 0;
      this.interval = setInterval(() => ws.send(JSON.stringify({ tick: ++this.ticks, token: this.token })), 40);
      return;
    }
    if (message === "stop-ticking") {
      clearInterval(this.interval);
      return ws.send("stopped");
    }
    if (message.startsWith("rename:")) {
      ws.serializeAttachment({ ...ws.deserializeAttachment(), user: message.slice(7) });
      return ws.send("renamed");
    }
    if (message.startsWith("broadcast:")) {
      for (const peer of this.ctx.getWebSockets(message.slice(10))) peer.send("to " + message.slice(10));
      return;
    }
    ws.send("unknown: " + message);
  }
  async webSocketClose(ws, code, reason, wasClean) {
    const afterError = (await this.ctx.storage.get("error")) !== undefined;
    await this.ctx.storage.put("closed", { code, reason, user: ws.deserializeAttachment().user, name: this.ctx.id.name ?? null, afterError });
  }
  async webSocketError(ws, error) {
    await this.ctx.storage.put("error", { message: error.message, user: ws.deserializeAttachment().user });
  }
  async state() {
    const s = this.ctx.storage;
    return { closed: (await s.get("closed")) ?? null, error: (await s.get("error")) ?? null, sockets: this.ctx.getWebSockets().length };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const stub = env.ROOM.getByName(url.searchParams.get("room"));
    if (url.pathname === "/id") return Response.json(stub.id.toString());
    if (url.pathname === "/state") return Response.json(await stub.state());
    return stub.fetch(request);
  },
};
`;

let p: DoProject;

before(async () => {
  p = await serveProject({ "wrangler.toml": wranglerToml({ name: "hib", classes: ["Room"] }), "src/index.js": WORKER }, [
    "--isolates",
    "2",
    "--hibernate-ms",
    "300",
  ]);
});

after(async () => {
  await p?.close();
});

async function walPath(room: string): Promise<string> {
  const id = (await json<string>(`${p.url}/id?room=${room}`)).body;
  return join(p.stateDir, "do", "hib-Room", `${id}.sqlite-wal`);
}

async function info(ws: TestSocket): Promise<any> {
  return JSON.parse(await ws.ask("info"));
}

describe("hibernatable WebSockets", () => {
  test("an object with only hibernatable sockets hibernates; the next message re-creates it with its sockets' state", async () => {
    const alice = await openSocket(`${p.url}/ws?room=lobby&user=alice&tags=red,admins`);
    const bob = await openSocket(`${p.url}/ws?room=lobby&user=bob&tags=blue`);
    try {
      const awake = await info(alice);
      assert.equal(awake.constructions, 1);
      assert.equal(awake.all, 2);
      assert.deepEqual(awake.red, ["alice"]);
      assert.deepEqual(awake.blue, ["bob"]);
      assert.equal(awake.none, 0);
      assert.deepEqual(awake.tags, ["red", "admins"]);
      assert.equal(await alice.ask("rename:alice2"), "renamed");

      const wal = await walPath("lobby");
      await eventually(() => !existsSync(wal), "the room to hibernate (its SQLite file closed)");

      const woken = await info(alice);
      assert.notEqual(woken.token, awake.token, "a new instance");
      assert.equal(woken.constructions, 2, "the constructor ran again on wake");
      assert.equal(woken.ctorName, "lobby", "ctx.id.name in the constructor of a woken object");
      assert.equal(woken.handlerName, "lobby", "ctx.id.name in webSocketMessage");
      assert.deepEqual(woken.attachment, { user: "alice2", joinedAt: 1234, nested: { list: [1, 2, 3] } }, "the attachment survived");
      assert.deepEqual(woken.tags, ["red", "admins"], "tags survived");
      assert.equal(woken.all, 2, "both sockets stayed open and attached");
      assert.deepEqual(woken.red, ["alice2"]);
      assert.deepEqual(woken.blue, ["bob"]);
      assert.deepEqual(woken.autoResponse, ["ping", "pong"], "the auto-response survived");
      assert.equal(woken.eventTimeout, 5000);

      // Broadcast from the woken instance reaches the other socket.
      alice.ws.send("broadcast:blue");
      assert.equal(await bob.next(), "to blue");
      assert.equal(await alice.ask("tags-of-other"), "TypeError", "getTags of a socket not accepted with acceptWebSocket throws");
    } finally {
      alice.close();
      bob.close();
    }
  });

  test("the auto-response answers without waking the object and sets the timestamp", async () => {
    const ws = await openSocket(`${p.url}/ws?room=auto&user=carol`);
    try {
      const awake = await info(ws);
      assert.equal(awake.autoResponseAt, null, "no auto-response yet");
      const wal = await walPath("auto");
      await eventually(() => !existsSync(wal), "the room to hibernate (its SQLite file closed)");

      const before = Date.now();
      for (let i = 0; i < 3; i++) assert.equal(await ws.ask("ping"), "pong");
      assert.ok(!existsSync(wal), "answering the pings did not wake the object (its storage stayed closed)");

      const woken = await info(ws);
      assert.equal(woken.constructions, 2, "only the info message woke the object");
      assert.ok(woken.autoResponseAt >= before - 5 && woken.autoResponseAt <= Date.now(), `timestamp ${woken.autoResponseAt} is from the pings`);
      assert.equal(await ws.ask("something else"), "unknown: something else", "other messages still reach webSocketMessage");
    } finally {
      ws.close();
    }
  });

  test("webSocketClose runs (waking the object) when a client leaves, and the socket leaves getWebSockets()", async () => {
    const stay = await openSocket(`${p.url}/ws?room=bye&user=stay`);
    const leave = await openSocket(`${p.url}/ws?room=bye&user=leave`);
    try {
      assert.equal((await info(stay)).all, 2);
      const wal = await walPath("bye");
      await eventually(() => !existsSync(wal), "the room to hibernate (its SQLite file closed)");
      leave.ws.close(4001, "going away");
      const state = await eventually(async () => {
        const s = (await json(`${p.url}/state?room=bye`)).body;
        return s.closed ? s : null;
      }, "webSocketClose to record the close");
      assert.deepEqual(state.closed, { code: 4001, reason: "going away", user: "leave", name: "bye", afterError: false });
      assert.equal(state.error, null);
      assert.equal(state.sockets, 1);
      assert.equal((await info(stay)).all, 1);
    } finally {
      stay.close();
      leave.close();
    }
  });

  test("a malformed frame from the client reaches webSocketError, then webSocketClose", async () => {
    const ws = await openSocket(`${p.url}/ws?room=broken&user=mallory`);
    try {
      assert.equal((await info(ws)).all, 1);
      // A text frame that is not valid UTF-8: the front door closes the connection (1007).
      ws.ws.send(Buffer.from([0xc3, 0x28, 0xff]), { binary: false });
      const closed = await ws.closed;
      assert.equal(closed.code, 1007);
      const state = await eventually(async () => {
        const s = (await json(`${p.url}/state?room=broken`)).body;
        return s.error && s.closed ? s : null;
      }, "webSocketError and webSocketClose to record the failure");
      assert.equal(state.error.user, "mallory");
      assert.match(state.error.message, /UTF-8/);
      assert.equal(state.closed.user, "mallory");
      assert.equal(state.closed.afterError, true, "webSocketError ran before webSocketClose");
      assert.equal(state.sockets, 0);
    } finally {
      ws.close();
    }
  });

  test("a pending timer keeps the object from hibernating; once cleared, it hibernates", async () => {
    const ws = await openSocket(`${p.url}/ws?room=ticking&user=dave`);
    try {
      const first = await info(ws);
      const wal = await walPath("ticking");
      ws.ws.send("start-ticking");
      const started = Date.now();
      // Ticks until well past the 300 ms hibernation time.
      let tick: { tick: number; token: string };
      do tick = JSON.parse(await ws.next());
      while (Date.now() - started < 900);
      assert.equal(tick.token, first.token, "the ticking instance is the one that answered first");
      ws.ws.send("info");
      const during = JSON.parse(await ws.nextWhere((m) => !m.includes('"tick"')));
      assert.equal(during.token, first.token, "no second instance: the object did not hibernate under its timer");
      assert.equal(during.constructions, 1);

      ws.ws.send("stop-ticking");
      await ws.nextWhere((m) => m === "stopped");
      await eventually(() => !existsSync(wal), "the room to hibernate once its interval was cleared");
      const woken = await info(ws);
      assert.equal(woken.constructions, 2);
    } finally {
      ws.close();
    }
  });
});
