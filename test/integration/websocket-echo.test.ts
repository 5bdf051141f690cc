/**
 * examples/websocket-echo through the real CLI: the page at `/`, WebSocket echo with 100 concurrent
 * `ws` clients, and malformed frames written on a raw TCP socket, which must close that one
 * connection with 1002 (protocol error) while other clients keep talking.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { REPO, removeDir, startLedge, type RunningLedge } from "../helpers/ledge.js";

let ledge: RunningLedge;
let stateDir: string;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "ledge-ws-state-"));
  ledge = await startLedge(join(REPO, "examples", "websocket-echo"), { args: ["--persist-to", stateDir, "--no-access-log"] });
});

after(async () => {
  await ledge?.stop();
  removeDir(stateDir);
});

/** Opens a `ws` client and resolves once it is open. */
function connect(path = "/ws"): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${ledge.port}${path}`);
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** Sends `message` and resolves with the next message the server sends back. */
function roundTrip(ws: WebSocket, message: string | Buffer): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    ws.once("message", (data: Buffer, isBinary: boolean) => resolve({ data, isBinary }));
    ws.once("error", reject);
    ws.send(message);
  });
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve(-1);
    ws.once("close", (code: number) => resolve(code));
  });
}

describe("examples/websocket-echo", () => {
  test("serves a page at / that connects to /ws", async () => {
    const res = await fetch(`${ledge.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    const html = await res.text();
    assert.match(html, /new WebSocket\(/);
    assert.match(html, /"\/ws"/);
  });

  test("a plain GET to /ws is told to upgrade", async () => {
    const res = await fetch(`${ledge.url}/ws`);
    assert.equal(res.status, 426);
    await res.body?.cancel();
  });

  test("an upgrade request the Worker answers without a WebSocket gets that answer", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${ledge.port}/`);
    const status = await new Promise<number>((resolve, reject) => {
      ws.once("unexpected-response", (_req, res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      ws.once("open", () => reject(new Error("the page route must not upgrade")));
    });
    assert.equal(status, 200);
    ws.on("error", () => {}); // terminate() before "open" reports that it never opened
    ws.terminate();
  });

  test("echoes text and binary messages", async () => {
    const ws = await connect();
    try {
      const text = await roundTrip(ws, "héllo ✓");
      assert.equal(text.isBinary, false);
      assert.equal(text.data.toString("utf8"), "héllo ✓");
      const bytes = randomBytes(1000);
      const bin = await roundTrip(ws, bytes);
      assert.equal(bin.isBinary, true);
      assert.deepEqual(Buffer.from(bin.data), bytes);
    } finally {
      ws.close(1000);
      await closed(ws);
    }
  });

  test("100 concurrent clients each get exactly their own messages back, in order", async () => {
    const clients = await Promise.all(Array.from({ length: 100 }, () => connect()));
    try {
      await Promise.all(
        clients.map(async (ws, i) => {
          const got: string[] = [];
          const all = new Promise<void>((resolve) => {
            ws.on("message", (data: Buffer) => {
              got.push(data.toString());
              if (got.length === 5) resolve();
            });
          });
          const sent = Array.from({ length: 5 }, (_, k) => `client ${i} message ${k}`);
          for (const m of sent) ws.send(m);
          await all;
          assert.deepEqual(got, sent);
        }),
      );
    } finally {
      for (const ws of clients) ws.close(1000);
      const codes = await Promise.all(clients.map(closed));
      assert.ok(codes.every((c) => c === 1000 || c === -1), `close codes: ${codes.join(",")}`);
    }
  });

  test("a frame with reserved bits set closes only that connection, with 1002", async () => {
    const bystander = await connect();
    try {
      const raw = await rawUpgrade("/ws");
      // FIN + RSV1 + text opcode, masked, 2-byte payload. No extension was negotiated, so RSV1 is a
      // protocol error (RFC 6455 §5.2).
      raw.write(maskedFrame(0xc1, Buffer.from("hi")));
      const close = await raw.closeFrame;
      assert.equal(close.code, 1002);
      assert.equal((await roundTrip(bystander, "still here")).data.toString(), "still here");
    } finally {
      bystander.close(1000);
      await closed(bystander);
    }
  });

  test("an unmasked client frame closes only that connection, with 1002", async () => {
    const bystander = await connect();
    try {
      const raw = await rawUpgrade("/ws");
      // Clients must mask every frame (RFC 6455 §5.1).
      raw.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
      const close = await raw.closeFrame;
      assert.equal(close.code, 1002);
      assert.equal((await roundTrip(bystander, "unaffected")).data.toString(), "unaffected");
      // The server is still accepting new connections too.
      const fresh = await connect();
      assert.equal((await roundTrip(fresh, "new")).data.toString(), "new");
      fresh.close(1000);
      await closed(fresh);
    } finally {
      bystander.close(1000);
      await closed(bystander);
    }
  });
});

interface RawSocket {
  write(b: Buffer): void;
  /** The first close frame the server sends, once the server has also ended the TCP connection. */
  closeFrame: Promise<{ code: number; reason: string }>;
}

/** A WebSocket handshake done by hand on a TCP socket, so the test can then write any bytes. */
function rawUpgrade(path: string): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(ledge.port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let endedResolve!: () => void;
    const ended = new Promise<void>((r) => (endedResolve = r));
    sock.on("close", () => endedResolve());
    sock.on("error", reject);
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (upgraded) return;
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buf.subarray(0, end).toString();
      buf = buf.subarray(end + 4);
      if (!head.startsWith("HTTP/1.1 101")) return reject(new Error(`upgrade refused:\n${head}`));
      upgraded = true;
      resolve({
        write: (b) => sock.write(b),
        closeFrame: ended.then(() => parseClose(buf)),
      });
    });
    sock.write(
      [
        `GET ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${ledge.port}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
        "Sec-WebSocket-Version: 13",
        "",
        "",
      ].join("\r\n"),
    );
  });
}

function maskedFrame(firstByte: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([firstByte, 0x80 | payload.length]), mask, masked]);
}

/** Parses the server's (unmasked) close frame from the bytes it sent after the handshake. */
function parseClose(bytes: Buffer): { code: number; reason: string } {
  assert.ok(bytes.length >= 4, `expected a close frame, got ${bytes.length} bytes: ${bytes.toString("hex")}`);
  assert.equal(bytes[0]! & 0x0f, 0x8, `expected a close frame, got opcode ${bytes[0]! & 0x0f}`);
  const len = bytes[1]! & 0x7f;
  return { code: bytes.readUInt16BE(2), reason: bytes.subarray(4, 2 + len).toString("utf8") };
}
