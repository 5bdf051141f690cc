/**
 * Frames a server end sends before its client end is returned in the 101 Response reach the client,
 * in order, followed by a close sent the same way. Workers apps rely on it: a chat room sends its
 * history on connect, and partyserver reports a failed `onConnect` as a message then a 1011 close.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

const WORKER = `
import { DurableObject } from "cloudflare:workers";

export class Greeter extends DurableObject {
  async fetch(request) {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    // A storage write first, so the sends below wait for the output gate.
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (x)");
    server.send("hello from " + this.ctx.id.name);
    server.send(new Uint8Array([1, 2, 3]));
    return new Response(null, { status: 101, webSocket: client });
  }
  webSocketMessage(ws, message) {
    ws.send("echo " + message);
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/refuse") {
      const { 0: client, 1: server } = new WebSocketPair();
      server.accept();
      server.send("first");
      server.send("second");
      server.close(4001, "go away");
      return new Response(null, { status: 101, webSocket: client });
    }
    return env.GREETER.getByName(url.pathname.slice(1)).fetch(request);
  },
};
`;

const CONFIG = `
name = "early-frames"
main = "index.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "GREETER"
class_name = "Greeter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Greeter"]
`;

/** Upper bound for frames and closes to arrive (normally a few ms). */
const WAIT_MS = 5_000;

let dir: string;
let stateDir: string;
let ledge: RunningLedge;

before(async () => {
  dir = writeProject({ "index.js": WORKER, "wrangler.toml": CONFIG });
  stateDir = mkdtempSync(join(tmpdir(), "ledge-early-state-"));
  ledge = await startLedge(dir, { args: ["--persist-to", stateDir, "--no-access-log"] });
});

after(async () => {
  await ledge?.stop();
  removeDir(dir);
  removeDir(stateDir);
});

/** Connects and records every frame, resolving once the socket is open. */
async function connect(path: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${ledge.port}${path}`);
  const frames: (string | number[])[] = [];
  ws.on("message", (data: Buffer, isBinary: boolean) => frames.push(isBinary ? [...data] : data.toString()));
  const closeEvent = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  /** Resolves with the close code and reason, or rejects if the socket is still open after WAIT_MS. */
  const closed = () =>
    Promise.race([
      closeEvent,
      new Promise<never>((_, reject) => {
        const timer = setTimeout(() => reject(new Error(`${path}: no close within ${WAIT_MS} ms; frames: ${JSON.stringify(frames)}`)), WAIT_MS);
        void closeEvent.then(() => clearTimeout(timer));
      }),
    ]);
  return { ws, frames, closed };
}

describe("frames sent before the 101 Response", () => {
  test("a Worker's frames and close arrive in order", async () => {
    const c = await connect("/refuse");
    assert.deepEqual(await c.closed(), { code: 4001, reason: "go away" });
    assert.deepEqual(c.frames, ["first", "second"]);
  });

  test("a Durable Object's frames on a hibernatable socket arrive before later ones", async () => {
    const c = await connect("/room-a");
    c.ws.send("ping");
    const deadline = Date.now() + WAIT_MS;
    // Three frames are due: the two sent before the 101, then the echo.
    while (c.frames.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(c.frames, ["hello from room-a", [1, 2, 3], "echo ping"]);
    c.ws.close();
    await c.closed();
  });
});
