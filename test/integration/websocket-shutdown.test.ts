/**
 * `ledge serve` stopping (SIGTERM) while WebSockets are open: clients are closed with 1001 (going
 * away), a hibernatable socket's handler that is running finishes (its write is kept), and the CLI
 * exits as soon as that is done rather than after the 30 s drain limit.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

/** How long the slow handler works after it says "started". */
const SLOW_MS = 1_000;
/** A stop taking longer than this is waiting for something other than the work above. */
const STOP_LIMIT_MS = 5_000;

const WORKER = `
import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  async fetch(request) {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
  async webSocketMessage(ws, message) {
    if (message !== "slow") return;
    ws.send("started");
    await scheduler.wait(${SLOW_MS});
    await this.ctx.storage.put("finished", true);
  }
  async finished() {
    return (await this.ctx.storage.get("finished")) === true;
  }
}

export default {
  async fetch(request, env) {
    const stub = env.ROOM.getByName("room");
    if (new URL(request.url).pathname === "/finished") return Response.json(await stub.finished());
    return stub.fetch(request);
  },
};
`;

const CONFIG = `
name = "shutdown"
main = "index.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "ROOM"
class_name = "Room"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Room"]
`;

let dir: string;
let stateDir: string;
let ledge: RunningLedge | undefined;

before(() => {
  dir = writeProject({ "index.js": WORKER, "wrangler.toml": CONFIG });
  stateDir = mkdtempSync(join(tmpdir(), "ledge-shutdown-state-"));
});

after(async () => {
  await ledge?.kill();
  removeDir(dir);
  removeDir(stateDir);
});

function start(): Promise<RunningLedge> {
  return startLedge(dir, { args: ["--persist-to", stateDir, "--no-access-log"] });
}

/** SIGTERM; resolves with the milliseconds until exit, or kills the CLI and fails past STOP_LIMIT_MS. */
async function stopTimed(l: RunningLedge): Promise<number> {
  const t0 = Date.now();
  const exited = await Promise.race([l.stop().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), STOP_LIMIT_MS))]);
  if (!exited) await l.kill();
  assert.ok(exited, `ledge serve was still running ${STOP_LIMIT_MS} ms after SIGTERM`);
  return Date.now() - t0;
}

async function connect(l: RunningLedge): Promise<{ ws: WebSocket; closeCode: Promise<number>; firstMessage: Promise<string> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${l.port}/`);
  const closeCode = new Promise<number>((resolve) => ws.once("close", (code: number) => resolve(code)));
  const firstMessage = new Promise<string>((resolve) => ws.once("message", (d: Buffer) => resolve(d.toString())));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return { ws, closeCode, firstMessage };
}

describe("stopping with WebSockets open", () => {
  test("open clients are closed with 1001 and the CLI exits promptly", async () => {
    ledge = await start();
    const a = await connect(ledge);
    const b = await connect(ledge);
    await stopTimed(ledge);
    // The CLI has exited, so both connections are closed by now.
    assert.equal(await a.closeCode, 1001);
    assert.equal(await b.closeCode, 1001);
  });

  test("a handler running at SIGTERM finishes its write, and the CLI exits right after", async () => {
    ledge = await start();
    const c = await connect(ledge);
    c.ws.send("slow");
    assert.equal(await c.firstMessage, "started");
    const ms = await stopTimed(ledge);
    assert.ok(ms >= SLOW_MS / 2, `the CLI exited after ${ms} ms, before the handler could finish`);

    ledge = await start();
    const res = await fetch(`${ledge.url}/finished`);
    assert.equal(await res.json(), true);
    await stopTimed(ledge);
  });
});
