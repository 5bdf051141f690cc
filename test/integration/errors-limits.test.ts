/**
 * What happens when user code misbehaves, through the real CLI (`ledge serve`, one isolate):
 * an exception is a 500 (no stack on the page in `serve`) logged with method, URL and request id;
 * an endless loop is a 503 once `limits.cpu_ms` (500 ms here) has passed, and the next request
 * runs on a fresh isolate; allocating past `limits.memory_mb` (64 MB here) replaces the isolate;
 * a request body over the limit (100 MiB) is a 413. After each, the node keeps serving. A global
 * scope that never finishes stops the start with an error rather than hanging it.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { removeDir, runLedge, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

const WORKER = `
declare const scheduler: { wait(ms: number): Promise<void> };

// Module state lives as long as the isolate: a new id means a new isolate.
const isolateId = crypto.randomUUID();
let served = 0;

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    served++;
    switch (url.pathname) {
      case "/":
        return Response.json({ isolateId, served });
      case "/throw":
        throw new Error("boom from user code");
      case "/throw-later":
        await scheduler.wait(1);
        throw new TypeError("async boom from user code");
      case "/loop":
        for (;;) {}
      case "/alloc": {
        const keep: number[][] = [];
        for (;;) keep.push(new Array(1_000_000).fill(served));
      }
      case "/size":
        return new Response(String((await request.arrayBuffer()).byteLength));
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
`;

const MAX_BODY = 100 * 1024 * 1024;

let dir: string;
let ledge: RunningLedge;

before(async () => {
  dir = writeProject({
    "wrangler.toml": 'name = "errors"\nmain = "src/index.ts"\ncompatibility_date = "2026-01-15"\n[limits]\ncpu_ms = 500\nmemory_mb = 64\n',
    "src/index.ts": WORKER,
  });
  ledge = await startLedge(dir, { args: ["--isolates", "1"] });
});

after(async () => {
  await ledge?.stop();
  removeDir(dir);
});

async function state(): Promise<{ isolateId: string; served: number }> {
  const res = await fetch(`${ledge.url}/`);
  assert.equal(res.status, 200);
  return (await res.json()) as { isolateId: string; served: number };
}

describe("exceptions", () => {
  for (const path of ["/throw", "/throw-later"]) {
    test(`an exception thrown by fetch (${path}) is a 500 without a stack, logged with its request id`, async () => {
      const before = await state();
      const res = await fetch(`${ledge.url}${path}`);
      assert.equal(res.status, 500);
      const body = await res.text();
      assert.match(body, /^500 Worker threw an exception\nRequest id: [0-9a-f]+\n/);
      assert.doesNotMatch(body, /boom from user code/, "serve must not show the error on the page");
      assert.doesNotMatch(body, /\n\s+at /, "serve must not show a stack on the page");
      const id = /Request id: ([0-9a-f]+)/.exec(body)![1]!;
      await ledge.waitFor(new RegExp(`\\[errors ${id}\\] GET ${path} → 500: \\w*Error: .*boom from user code`));
      // The stack is on the terminal, under the same request id.
      await ledge.waitFor(new RegExp(`\\[errors ${id}\\] error: Uncaught exception in fetch \\(GET http://[^ ]+${path}\\): \\w*Error: .*boom from user code\\n\\[errors ${id}\\]\\s+at `));
      // The same isolate keeps serving: exceptions are the Worker's, not the isolate's, problem.
      const after = await state();
      assert.equal(after.isolateId, before.isolateId);
      assert.equal(after.served, before.served + 2);
    });
  }
});

describe("limits", () => {
  test("an endless loop is stopped with a 503 after limits.cpu_ms; the next request gets a fresh isolate", async () => {
    const before = await state();
    const t0 = performance.now();
    const res = await fetch(`${ledge.url}/loop`);
    const elapsed = performance.now() - t0;
    assert.equal(res.status, 503);
    assert.match(await res.text(), /exceeded resource limits/);
    assert.ok(elapsed >= 450, `stopped after ${elapsed.toFixed(0)} ms, before the 500 ms limit`);
    assert.ok(elapsed < 5_000, `stopped after ${elapsed.toFixed(0)} ms, long after the 500 ms limit`);
    await ledge.waitFor("exceeded its CPU limit of 500 ms");
    // The replacement may still be booting: the request waits for it rather than failing.
    const after = await state();
    assert.notEqual(after.isolateId, before.isolateId);
    assert.equal(after.served, 1);
  });

  test("allocating past limits.memory_mb replaces the isolate, and the next request works", async () => {
    const before = await state();
    const res = await fetch(`${ledge.url}/alloc`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /exceeded resource limits/);
    await ledge.waitFor(/isolate \w+ stopped \(Worker exceeded its memory limit/);
    // The replacement may still be booting: the request waits for it rather than failing.
    const after = await state();
    assert.notEqual(after.isolateId, before.isolateId);
    assert.equal(after.served, 1);
  });
});

describe("start-up", () => {
  test("a global scope that never finishes fails the start with a clear message instead of hanging", async () => {
    const looping = writeProject({
      "wrangler.toml": 'name = "looping"\nmain = "src/index.ts"\ncompatibility_date = "2026-01-15"\n[limits]\ncpu_ms = 500\n',
      "src/index.ts": "for (;;) {}\nexport default { fetch: () => new Response('never') };\n",
    });
    try {
      // The start-up limit is limits.cpu_ms plus 2 s for the thread to boot.
      const r = await runLedge(["serve", looping, "--port", "0", "--isolates", "1"], { timeoutMs: 15_000 });
      assert.equal(r.code, 1);
      assert.doesNotMatch(r.stdout, /Ready on/);
      assert.match(r.stderr, /✘ The Worker failed to start: Error: the global scope did not finish within 2500 ms .*endless loop at the top level/);
    } finally {
      removeDir(looping);
    }
  });
});

describe("request body limit", () => {
  test("a body declared larger than 100 MiB is refused with 413 before it is sent", async () => {
    const { status, body } = await rawPost(MAX_BODY + 1, 0);
    assert.equal(status, 413);
    assert.match(body, /larger than 104857600 bytes/);
  });

  test("a chunked body that grows past 100 MiB is cut off with 413", async () => {
    const { status, body } = await rawPost(undefined, MAX_BODY + 1024 * 1024);
    assert.equal(status, 413);
    assert.match(body, /Payload too large/);
  });

  test("a body under the limit reaches the Worker whole, and the node still serves after a 413", async () => {
    const res = await fetch(`${ledge.url}/size`, { method: "POST", body: new Uint8Array(3 * 1024 * 1024) });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), String(3 * 1024 * 1024));
  });
});

/**
 * POSTs to /size, writing `send` bytes in 1 MiB chunks (with `contentLength` declared, or chunked
 * when it is undefined), and stops writing as soon as the response arrives.
 */
function rawPost(contentLength: number | undefined, send: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = contentLength === undefined ? {} : { "content-length": contentLength };
    const req = http.request(`${ledge.url}/size`, { method: "POST", headers });
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
      res.on("error", reject);
    });
    // The server closes the connection after a 413 while the upload may still be going.
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const chunk = Buffer.alloc(1024 * 1024);
    let sent = 0;
    const pump = () => {
      while (!answered && sent < send) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!answered && contentLength === undefined) req.end();
    };
    if (send === 0) req.flushHeaders();
    else pump();
  });
}
