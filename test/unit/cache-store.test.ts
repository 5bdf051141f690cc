// The node's cache database: size bound with least-recently-used eviction, recency refresh at most
// once per second, persistence across reopen, several connections on one file, and use from a
// worker thread whose Node globals were removed as an app isolate's are.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { CacheStore, closeCacheStorage, createCacheStorage, type CacheEntryInput } from "../../src/cache/index.js";

let dir: string;
let seq = 0;
const freshDbPath = () => join(dir, `db-${++seq}`, "cache.sqlite");

before(() => {
  dir = mkdtempSync(join(tmpdir(), "ledge-cache-store-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const NS = "default";
const url = (name: string) => `https://example.com/${name}`;
function entry(body: string, expiresAt = Number.MAX_SAFE_INTEGER): CacheEntryInput {
  return { status: 200, statusText: "OK", headers: [["content-type", "text/plain"]], body: new TextEncoder().encode(body), expiresAt, initialAgeSec: 0 };
}
/** Reads an entry's body as text, or undefined when absent. */
function bodyOf(store: CacheStore, name: string): string | undefined {
  return store.read(NS, url(name), () => "all")?.body.toString("utf8");
}

describe("size bound", () => {
  const ONE = CacheStore.entrySize(NS, url("a"), entry("x".repeat(100)));

  it("evicts the least recently used entries and keeps the recently read one", () => {
    let now = 0;
    const store = new CacheStore(freshDbPath(), { maxBytes: Math.floor(3.5 * ONE), clock: () => now });
    for (const name of ["a", "b", "c"]) {
      store.put(NS, url(name), entry("x".repeat(100)));
      now += 1_000;
    }
    assert.equal(bodyOf(store, "a")?.length, 100); // refreshes a: b is now the oldest
    now += 1_000;
    store.put(NS, url("d"), entry("x".repeat(100)));
    assert.equal(bodyOf(store, "b"), undefined);
    for (const name of ["a", "c", "d"]) assert.ok(bodyOf(store, name), name);
    assert.ok(store.totalBytes() <= store.maxBytes);
    store.close();
  });

  it("refreshes recency at most once per second, so a quick re-read does not save an entry", () => {
    let now = 0;
    const store = new CacheStore(freshDbPath(), { maxBytes: Math.floor(2.5 * ONE), clock: () => now });
    store.put(NS, url("a"), entry("x".repeat(100)));
    now += 500;
    store.put(NS, url("b"), entry("x".repeat(100)));
    now += 400; // 900 ms after a was written: the hit is served but not recorded.
    assert.ok(bodyOf(store, "a"));
    store.put(NS, url("c"), entry("x".repeat(100)));
    assert.equal(bodyOf(store, "a"), undefined);
    assert.ok(bodyOf(store, "b"));
    store.close();
  });

  it("refuses an entry larger than the whole bound without evicting anything", () => {
    const store = new CacheStore(freshDbPath(), { maxBytes: ONE });
    assert.equal(store.put(NS, url("a"), entry("x".repeat(100))), true);
    assert.equal(store.put(NS, url("big"), entry("x".repeat(101))), false);
    assert.ok(bodyOf(store, "a"));
    store.close();
  });

  it("keeps the byte total exact across insert, replace and delete", () => {
    const store = new CacheStore(freshDbPath());
    store.put(NS, url("a"), entry("12345"));
    store.put(NS, url("b"), entry("1"));
    store.put(NS, url("a"), entry("123"));
    const expected = CacheStore.entrySize(NS, url("a"), entry("123")) + CacheStore.entrySize(NS, url("b"), entry("1"));
    assert.equal(store.totalBytes(), expected);
    assert.equal(store.delete(NS, url("a")), true);
    assert.equal(store.totalBytes(), CacheStore.entrySize(NS, url("b"), entry("1")));
    store.close();
  });

  it("sweeps expired entries when another is put", () => {
    let now = 0;
    const store = new CacheStore(freshDbPath(), { clock: () => now });
    store.put(NS, url("old"), entry("o", 1_000));
    now = 2_000;
    store.put(NS, url("new"), entry("n"));
    assert.equal(store.count(), 1);
    store.close();
  });

  it("rejects a maxBytes that is not a positive integer", () => {
    assert.throws(() => new CacheStore(freshDbPath(), { maxBytes: 0 }), RangeError);
    assert.throws(() => new CacheStore(freshDbPath(), { maxBytes: 1.5 }), RangeError);
  });

  it("through the API, a body over the bound is consumed and not stored", async () => {
    const caches = createCacheStorage({ dbPath: freshDbPath(), maxBytes: 64 });
    const res = new Response("x".repeat(65), { headers: { "cache-control": "max-age=60" } });
    await caches.default.put(url("big"), res);
    assert.equal(res.bodyUsed, true);
    assert.equal(await caches.default.match(url("big")), undefined);
    closeCacheStorage(caches);
  });
});

describe("sharing and persistence", () => {
  it("entries survive closing and reopening the database", async () => {
    const dbPath = freshDbPath();
    const first = createCacheStorage({ dbPath });
    await first.default.put(url("p"), new Response("kept", { headers: { "cache-control": "max-age=600" } }));
    await (await first.open("named")).put(url("p"), new Response("named", { headers: { "cache-control": "max-age=600" } }));
    closeCacheStorage(first);
    const second = createCacheStorage({ dbPath });
    assert.equal(await (await second.default.match(url("p")))?.text(), "kept");
    assert.equal(await (await (await second.open("named")).match(url("p")))?.text(), "named");
    closeCacheStorage(second);
  });

  it("two connections on one file see each other's puts and deletes", async () => {
    const dbPath = freshDbPath();
    const one = createCacheStorage({ dbPath });
    const two = createCacheStorage({ dbPath });
    await one.default.put(url("s"), new Response("shared", { headers: { "cache-control": "max-age=600" } }));
    assert.equal(await (await two.default.match(url("s")))?.text(), "shared");
    assert.equal(await two.default.delete(url("s")), true);
    assert.equal(await one.default.match(url("s")), undefined);
    closeCacheStorage(one);
    closeCacheStorage(two);
  });

  /**
   * Runs `body` (the inside of an async function, given `mod`, the cache module, and `B`, Node's
   * Buffer) in a fresh worker thread and returns what it returns. Eval'd workers do not inherit the
   * tsx loader, so the worker registers it before importing the TypeScript module.
   */
  async function inWorker(body: string, dbPath: string): Promise<unknown> {
    const source = `
      const { parentPort, workerData } = require("node:worker_threads");
      (async () => {
        (await import(workerData.tsxApi)).register();
        const mod = await import(workerData.moduleUrl);
        const B = Buffer;
        ${body}
      })().then((r) => parentPort.postMessage(r), (e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
    `;
    const worker = new Worker(source, {
      eval: true,
      workerData: {
        dbPath,
        tsxApi: import.meta.resolve("tsx/esm/api"),
        moduleUrl: pathToFileURL(join(import.meta.dirname, "../../src/cache/index.ts")).href,
      },
    });
    try {
      return await new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
    } finally {
      await worker.terminate();
    }
  }

  it("opens and uses the store in a worker thread whose global process is not Node's", async () => {
    // An app isolate's global process is Workers' (no versions, no binding) and setImmediate and
    // global are hidden; the cache opens lazily afterwards, which is also the thread's first load of
    // the SQLite addon.
    const dbPath = freshDbPath();
    const result = await inWorker(`
      globalThis.process = { env: {} }; for (const name of ["setImmediate", "clearImmediate", "global"]) delete globalThis[name];
      const standIn = globalThis.process;
      const store = new mod.CacheStore(workerData.dbPath);
      store.put("default", "https://example.com/w", { status: 200, statusText: "OK", headers: [],
        body: new TextEncoder().encode("from worker"), expiresAt: Date.now() + 600000, initialAgeSec: 0 });
      const read = store.read("default", "https://example.com/w", () => ({ start: 5, length: 6 }));
      const out = { text: new TextDecoder().decode(read.body), restored: globalThis.process !== standIn };
      store.close();
      return out;
    `, dbPath);
    assert.deepEqual(result, { text: "worker", restored: false });
    const caches = createCacheStorage({ dbPath });
    assert.equal(await (await caches.default.match(url("w")))?.text(), "from worker");
    closeCacheStorage(caches);
  });

  it("never reads the global Buffer from cache code in a worker thread", async () => {
    // Node's own fetch classes read the global Buffer internally, so it cannot simply be deleted
    // while Responses are used; a getter reports reads whose immediate caller is cache code.
    const result = await inWorker(`
      void [Request, Response, Headers];
      for (const name of ["process", "setImmediate", "global"]) delete globalThis[name];
      const leaks = [];
      Object.defineProperty(globalThis, "Buffer", { configurable: true, get() {
        const caller = new Error().stack.split("\\n")[2] ?? "";
        if (caller.includes("/src/cache/")) leaks.push(caller.trim());
        return B;
      } });
      const caches = mod.createCacheStorage({ dbPath: workerData.dbPath });
      await caches.default.put("https://example.com/w", new Response("from worker", {
        headers: { "cache-control": "max-age=600" } }));
      const hit = await caches.default.match(new Request("https://example.com/w", { headers: { range: "bytes=0-1, 5-6" } }));
      const out = { status: hit.status, leaks };
      mod.closeCacheStorage(caches);
      return out;
    `, freshDbPath());
    assert.deepEqual(result, { status: 206, leaks: [] });
  });
});
