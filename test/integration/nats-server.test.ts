/**
 * test/helpers/nats.ts starts a real nats-server with JetStream, and a client can use it: spoken to
 * over a plain TCP socket in NATS's text protocol (no client library), the server announces
 * JetStream, creates a file-backed stream in the test's store folder, acknowledges a message
 * published to it and returns that message when asked. `stop()` ends the process and its store.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { startNatsServer } from "../helpers/nats.js";

/** Bound for one request/reply on loopback (normally under a millisecond). */
const REPLY_TIMEOUT_MS = 5_000;

/** The few verbs of the NATS client protocol that a request/reply needs. */
class RawNatsClient {
  #socket: Socket;
  #buf = Buffer.alloc(0);
  #nextSid = 1;
  #waiters = new Map<string, (payload: string) => void>();
  #pongs: Array<() => void> = [];
  #errors: string[] = [];

  private constructor(socket: Socket, readonly info: Record<string, unknown>) {
    this.#socket = socket;
  }

  /** Connects, reads the server's INFO line and sends CONNECT; resolves after the first PONG. */
  static async connect(port: number): Promise<RawNatsClient> {
    const socket = connect(port, "127.0.0.1");
    const infoLine = await new Promise<string>((resolve, reject) => {
      let head = "";
      const onData = (d: Buffer) => {
        head += d.toString("latin1");
        const end = head.indexOf("\r\n");
        if (end < 0) return;
        socket.off("data", onData);
        if (end + 2 < head.length) socket.unshift(Buffer.from(head.slice(end + 2), "latin1"));
        resolve(head.slice(0, end));
      };
      socket.on("data", onData);
      socket.once("error", reject);
    });
    assert.match(infoLine, /^INFO \{/);
    const client = new RawNatsClient(socket, JSON.parse(infoLine.slice(5)) as Record<string, unknown>);
    socket.on("data", (d: Buffer) => client.#onData(d));
    socket.write(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, protocol: 1, lang: "raw", version: "0" })}\r\n`);
    await client.ping();
    return client;
  }

  ping(): Promise<void> {
    return new Promise((resolve) => {
      this.#pongs.push(resolve);
      this.#socket.write("PING\r\n");
    });
  }

  /** Publishes `payload` to `subject` with a fresh inbox as reply-to and resolves with the reply. */
  async request(subject: string, payload: string): Promise<string> {
    const sid = String(this.#nextSid++);
    const inbox = `_INBOX.raw.${sid}`;
    const reply = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no reply to ${subject} within ${REPLY_TIMEOUT_MS} ms; server errors: ${this.#errors.join("; ") || "none"}`)),
        REPLY_TIMEOUT_MS,
      );
      this.#waiters.set(sid, (p) => {
        clearTimeout(timer);
        resolve(p);
      });
    });
    const body = Buffer.from(payload);
    this.#socket.write(`SUB ${inbox} ${sid}\r\nUNSUB ${sid} 1\r\nPUB ${subject} ${inbox} ${body.length}\r\n`);
    this.#socket.write(Buffer.concat([body, Buffer.from("\r\n")]));
    return reply;
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(d: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, d]);
    for (;;) {
      const end = this.#buf.indexOf("\r\n");
      if (end < 0) return;
      const line = this.#buf.subarray(0, end).toString("latin1");
      if (line.startsWith("MSG ")) {
        // MSG <subject> <sid> [reply-to] <#bytes>
        const parts = line.split(" ");
        const size = Number(parts[parts.length - 1]);
        if (this.#buf.length < end + 2 + size + 2) return;
        const payload = this.#buf.subarray(end + 2, end + 2 + size).toString();
        this.#buf = this.#buf.subarray(end + 2 + size + 2);
        this.#waiters.get(parts[2]!)?.(payload);
        this.#waiters.delete(parts[2]!);
        continue;
      }
      this.#buf = this.#buf.subarray(end + 2);
      if (line === "PING") this.#socket.write("PONG\r\n");
      else if (line === "PONG") this.#pongs.shift()?.();
      else if (line.startsWith("-ERR")) this.#errors.push(line);
    }
  }
}

describe("test/helpers/nats.ts", () => {
  test("starts a JetStream server that stores and returns a published message", async () => {
    const nats = await startNatsServer();
    after(() => nats.stop());
    assert.match(nats.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    const client = await RawNatsClient.connect(nats.port);
    after(() => client.close());
    assert.equal(client.info.jetstream, true);

    const created = JSON.parse(
      await client.request("$JS.API.STREAM.CREATE.ORDERS", JSON.stringify({ name: "ORDERS", subjects: ["orders.>"], storage: "file" })),
    );
    assert.equal(created.error, undefined, JSON.stringify(created.error));
    assert.equal(created.config.name, "ORDERS");

    const ack = JSON.parse(await client.request("orders.1", "first order"));
    assert.deepEqual(ack, { stream: "ORDERS", seq: 1 });

    const got = JSON.parse(await client.request("$JS.API.STREAM.MSG.GET.ORDERS", JSON.stringify({ seq: 1 })));
    assert.equal(got.message.subject, "orders.1");
    assert.equal(Buffer.from(got.message.data, "base64").toString(), "first order");
    // The stream lives in this server's own store folder ($G is the default account).
    assert.ok(existsSync(join(nats.storeDir, "jetstream", "$G", "streams", "ORDERS")), nats.output());
  });

  test("stop() ends the process and removes its store", async () => {
    const nats = await startNatsServer();
    after(() => nats.stop());
    await nats.stop();
    assert.ok(nats.proc.exitCode !== null || nats.proc.signalCode !== null);
    assert.equal(existsSync(nats.storeDir), false);
    const err = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      const s = connect(nats.port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        reject(new Error(`port ${nats.port} still accepts connections after stop()`));
      });
      s.once("error", resolve);
    });
    assert.equal(err.code, "ECONNREFUSED");
  });
});
