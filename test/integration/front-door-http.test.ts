/**
 * The front door against mis-framed HTTP, through the real CLI (`ledge serve`, one isolate) and
 * raw TCP sockets: a Worker's body that does not match its declared Content-Length never spills
 * onto a keep-alive connection.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

const FORGED = "HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nforged";

const WORKER = `
const FORGED = ${JSON.stringify(FORGED)};
const enc = new TextEncoder();
let served = 0;

/** A stream that yields each part as its own chunk. */
function parts(...chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const p of chunks) c.enqueue(enc.encode(p));
      c.close();
    },
  });
}

export default {
  async fetch(request: Request): Promise<Response> {
    served++;
    const { pathname } = new URL(request.url);
    const length = (n: number) => ({ headers: { "content-length": String(n) } });
    switch (pathname) {
      case "/long-one": return new Response(parts("hello" + FORGED), length(5));
      case "/long-two": return new Response(parts("hello", FORGED), length(5));
      case "/short": return new Response(parts("hi"), length(50));
      case "/exact": return new Response(parts("hel", "lo"), length(5));
      case "/fixed-string": return new Response("hello world", length(5));
      case "/fixed-bytes": return new Response(new Uint8Array(20).fill(65), length(100));
      case "/served": return new Response(String(served));
      case "/url": return new Response(request.url);
      case "/size": return new Response(String((await request.arrayBuffer()).byteLength));
      default: return new Response("second");
    }
  },
};
`;

let dir: string;
let ledge: RunningLedge;

before(async () => {
  dir = writeProject({
    "wrangler.toml": 'name = "frontdoor"\nmain = "src/index.ts"\ncompatibility_date = "2026-01-15"\n',
    "src/index.ts": WORKER,
  });
  ledge = await startLedge(dir, { args: ["--isolates", "1"] });
});

after(async () => {
  await ledge?.stop();
  removeDir(dir);
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface Received {
  /** Everything the server sent, as latin1 text. */
  text: string;
  responses: RawResponse[];
  /** Whether the server closed the connection. */
  closed: boolean;
}

/**
 * Parses complete Content-Length-framed responses from the start of `text`; `bodyless[i]` marks
 * the answer to a HEAD request.
 */
function parseResponses(text: string, bodyless: boolean[] = []): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end < 0) return out;
    const [statusLine, ...lines] = text.slice(at, end).split("\r\n");
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const colon = l.indexOf(":");
      headers[l.slice(0, colon).toLowerCase()] = l.slice(colon + 1).trim();
    }
    const length = bodyless[out.length] ? 0 : Number(headers["content-length"] ?? NaN);
    if (!Number.isInteger(length) || text.length < end + 4 + length) return out;
    out.push({ status: Number(statusLine!.split(" ")[1]), headers, body: text.slice(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
}

/**
 * Connects, writes `request`, and collects what the server sends until it closes the connection
 * or `want` complete responses arrived; fails after `timeoutMs`, naming what it waited for.
 */
function exchange(request: string | Buffer, opts: { want?: number; bodyless?: boolean[]; timeoutMs?: number } = {}): Promise<Received> {
  const { want = Infinity, bodyless = [], timeoutMs = 5_000 } = opts;
  return new Promise((resolve, reject) => {
    const socket = net.connect(ledge.port, "127.0.0.1");
    let text = "";
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, responses: parseResponses(text, bodyless), closed });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      const what = want === Infinity ? "the server to close the connection" : `${want} responses`;
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received:\n${text}`));
    }, timeoutMs);
    socket.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      if (parseResponses(text, bodyless).length >= want) finish(false);
    });
    socket.on("close", () => finish(true));
    // A reset after the server closed is a close as well; what arrived before it is what counts.
    socket.on("error", () => {});
    socket.write(request);
  });
}

const get = (path: string, host = "x", method = "GET") => `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;

function statusLines(text: string): number {
  return text.split("HTTP/1.1 ").length - 1;
}

describe("a streamed body that does not match its Content-Length", () => {
  for (const path of ["/long-one", "/long-two"]) {
    test(`one longer than declared (${path}) ends the connection; the pipelined request never gets forged bytes`, async () => {
      const r = await exchange(get(path) + get("/ok"));
      assert.equal(r.closed, true);
      assert.doesNotMatch(r.text, /forged/);
      assert.equal(statusLines(r.text), 1, `exactly one response head, got:\n${r.text}`);
      assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(r.text, /\r\ncontent-length: 5\r\n/i);
      await ledge.waitFor(`GET ${path}: the response body is longer than its Content-Length (5 bytes); connection closed`);
    });
  }

  test("one shorter than declared ends the connection instead of letting the next response fill the gap", async () => {
    const r = await exchange(get("/short") + get("/ok"));
    assert.equal(r.closed, true);
    assert.equal(statusLines(r.text), 1, `exactly one response head, got:\n${r.text}`);
    assert.ok(r.text.endsWith("\r\n\r\nhi"), `the body is the 2 bytes sent, then the connection ends; got:\n${r.text}`);
    await ledge.waitFor("GET /short: the response body is shorter than its Content-Length (50 bytes); connection closed");
  });

  test("one matching its length, and a HEAD of a short one, keep the connection for the next request", async () => {
    const r = await exchange(get("/exact") + get("/short", "x", "HEAD") + get("/ok"), { want: 3, bodyless: [false, true, false] });
    assert.equal(r.closed, false);
    assert.deepEqual(
      r.responses.map((x) => [x.status, x.headers["content-length"], x.body]),
      [
        [200, "5", "hello"],
        [200, "50", ""],
        [200, "6", "second"],
      ],
    );
  });
});

describe("a string or bytes body whose declared Content-Length is wrong", () => {
  for (const [path, body] of [
    ["/fixed-string", "hello world"],
    ["/fixed-bytes", "A".repeat(20)],
  ] as const) {
    test(`is sent whole with its real length (${path}), and the pipelined request is answered`, async () => {
      const r = await exchange(get(path) + get("/ok"), { want: 2 });
      assert.equal(r.responses.length, 2, r.text);
      assert.equal(r.responses[0]!.headers["content-length"], String(body.length));
      assert.equal(r.responses[0]!.body, body);
      assert.equal(r.responses[1]!.body, "second");
      assert.equal(statusLines(r.text), 2);
    });
  }
});
