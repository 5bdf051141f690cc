/**
 * The front door against malformed, oversized and mis-framed HTTP, through the real CLI (`ledge
 * serve`, one isolate) and raw TCP sockets: a Worker's body that does not match its declared
 * Content-Length never spills onto a keep-alive connection; a bad Host is a 400 that never reaches
 * the Worker; an oversized body's 413 reaches a client that is still uploading; parse errors get
 * 431, 408 or 400 with a body.
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
  ledge = await startLedge(dir, { args: ["--isolates", "1", "--headers-timeout-ms", "1000"] });
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

describe("the Host header", () => {
  async function served(): Promise<number> {
    const r = await exchange(get("/served"), { want: 1 });
    return Number(r.responses[0]!.body);
  }

  const BAD = ["a b", "", "user@host", "[::1", "host/path", "host?q", "a\\b", "host:99999", "999.1.1.1", "a%2fb"];
  test(`a malformed one (${BAD.map((h) => JSON.stringify(h)).join(", ")}) is a 400 from the front door`, async () => {
    const before = await served();
    for (const host of BAD) {
      const r = await exchange(`GET /served HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      assert.equal(r.responses[0]?.status, 400, `Host ${JSON.stringify(host)}: ${r.text}`);
      assert.equal(r.responses[0]!.body, "400 Bad Request\nThe request's Host header is missing or not a valid host\n");
      assert.equal(r.closed, true);
    }
    // The Worker counts every request it sees: only the two /served requests reached it.
    assert.equal(await served(), before + 1);
  });

  test("a missing one is a 400 on HTTP/1.1; HTTP/1.0 may omit it", async () => {
    const r = await exchange("GET /served HTTP/1.1\r\n\r\n");
    assert.equal(r.responses[0]?.status, 400, r.text);
    assert.match(r.responses[0]!.body, /Host header is missing/);
    const old = await exchange("GET /url HTTP/1.0\r\n\r\n");
    assert.equal(old.responses[0]?.status, 200, old.text);
    assert.match(old.responses[0]!.body, /^http:\/\/127\.0\.0\.1:\d+\/url$/);
  });

  test("valid ones reach the Worker as its URL's host", async () => {
    for (const [host, url] of [
      ["localhost:8787", "http://localhost:8787/url"],
      ["[::1]:8787", "http://[::1]:8787/url"],
      ["Example.COM", "http://example.com/url"],
      ["127.0.0.1", "http://127.0.0.1/url"],
    ]) {
      const r = await exchange(get("/url", host), { want: 1 });
      assert.equal(r.responses[0]?.body, url, `Host ${host}`);
    }
  });

  test("a malformed one on a request whose body is still being sent gets its 400", async () => {
    const r = await uploadUntilAnswered("a b", 10 * 1024 * 1024);
    assert.equal(r.status, 400);
    assert.match(r.body, /Host header/);
  });

  test("a malformed one on a WebSocket upgrade is a 400 with a body", async () => {
    const r = await exchange(
      "GET / HTTP/1.1\r\nHost: a b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      { want: 1 },
    );
    assert.equal(r.responses[0]?.status, 400, r.text);
    assert.match(r.responses[0]!.body, /Host header/);
  });
});

/**
 * POSTs to /size with Host `host` and a declared Content-Length of `declared`, writing the body
 * in 64 KiB chunks as fast as the socket takes them until a whole response arrived, like a client
 * that reads while it uploads. Rejects if the connection fails before the whole answer is in.
 */
function uploadUntilAnswered(host: string, declared: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(ledge.port, "127.0.0.1");
    let text = "";
    let answered = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out after 10000 ms waiting for an answer to the upload; received:\n${text}`));
    }, 10_000);
    const fail = (why: string) => {
      if (answered) return;
      clearTimeout(timer);
      reject(new Error(`${why} before the whole answer arrived; received:\n${text}`));
    };
    socket.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      const [r] = parseResponses(text);
      if (r && !answered) {
        answered = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(r);
      }
    });
    socket.on("error", (err) => fail(`the connection failed (${(err as NodeJS.ErrnoException).code})`));
    socket.on("close", () => fail("the connection closed"));
    socket.write(`POST /size HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${declared}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024);
    let sent = 0;
    const pump = () => {
      while (!answered && sent < declared) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
    };
    pump();
  });
}

describe("a request body declared over the limit", () => {
  test("gets its 413 with a body every time while the client keeps sending (5 in a row)", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await uploadUntilAnswered("x", 200 * 1024 * 1024);
      assert.equal(r.status, 413, `attempt ${i + 1}`);
      assert.match(r.body, /^413 Payload too large\n/);
      assert.match(r.body, /larger than 104857600 bytes/);
      assert.equal(r.headers.connection, "close");
    }
  });
});

describe("requests node:http cannot parse", () => {
  test("headers of 100 KiB are a 431 with a message (5 in a row)", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await exchange(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100 * 1024)}\r\n\r\n`);
      assert.equal(r.responses[0]?.status, 431, `attempt ${i + 1}: ${r.text.slice(0, 200)}`);
      assert.match(r.responses[0]!.body, /^431 Request Header Fields Too Large\nThe request's headers are larger than 16384 bytes\n$/);
      assert.equal(r.closed, true);
    }
  });

  for (const [what, request, code] of [
    ["an invalid method", "GARBAGE!! / HTTP/1.1\r\nHost: x\r\n\r\n", "HPE_INVALID_METHOD"],
    ["an invalid Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "HPE_INVALID_CONTENT_LENGTH"],
  ]) {
    test(`${what} is a 400 with a message`, async () => {
      const r = await exchange(request!);
      assert.equal(r.responses[0]?.status, 400, r.text);
      assert.equal(r.responses[0]!.body, `400 Bad Request\nMalformed HTTP request (${code})\n`);
      assert.equal(r.closed, true);
    });
  }

  test("headers that stop arriving are a 408 with a message after the headers timeout (1 s here)", async () => {
    const t0 = performance.now();
    const r = await exchange("GET / HTTP/1.1\r\nHost: x\r\n", { timeoutMs: 5_000 });
    const elapsed = performance.now() - t0;
    assert.equal(r.responses[0]?.status, 408, r.text);
    assert.equal(r.responses[0]!.body, "408 Request Timeout\nThe request did not arrive in time\n");
    assert.ok(elapsed >= 900, `answered after ${elapsed.toFixed(0)} ms, before the 1 s timeout`);
  });
});
