// The binding runs in an app's worker thread where `process`, `Buffer`, `setImmediate` and `global`
// are deleted before user code starts. This test recreates that thread: it bundles src/kv with
// esbuild (worker threads do not inherit tsx), deletes the globals, and only then opens the first
// database of the thread, so loading the native addon is covered too.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "ledge-kv-worker-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const WORKER_SOURCE = `
const { KvStore, KVNamespace } = await import(BUNDLE_URL);
const { parentPort } = await import("node:worker_threads");
globalThis.process = { env: {} }; for (const name of ["setImmediate", "clearImmediate", "global"]) delete globalThis[name];
const standIn = globalThis.process;

const store = new KvStore(DB_PATH);
const kv = new KVNamespace(store);
const leaked = [globalThis.process === standIn, typeof global];
await kv.put("text", "hello", { metadata: { by: "worker" }, expirationTtl: 120 });
await kv.put("bytes", new Uint8Array([1, 2, 3]));
await kv.put("stream", new ReadableStream({ start(c) { c.enqueue(new Uint8Array([65, 66])); c.close(); } }));
const reader = (await kv.get("stream", "stream")).getReader();
let streamed = "";
for (;;) { const r = await reader.read(); if (r.done) break; streamed += new TextDecoder().decode(r.value); }
const result = {
  leaked,
  text: await kv.get("text"),
  withMeta: await kv.getWithMetadata("text"),
  bytes: [...new Uint8Array(await kv.get("bytes", "arrayBuffer"))],
  streamed,
  bulk: [...(await kv.get(["text", "missing"])).entries()],
  page: await kv.list({ limit: 2 }),
  purged: store.purgeExpired(),
  limitError: await kv.put("", "x").catch((e) => e.name + ": " + e.message),
};
await kv.delete("bytes");
store.close();
parentPort.postMessage(result);
`;

let bundleUrl: string;
let bundleDir: string;
after(() => rmSync(bundleDir, { recursive: true, force: true }));

/** Bundles src/kv once for every worker in this file. */
before(async () => {
  const require = createRequire(import.meta.url);
  const sqliteUrl = pathToFileURL(require.resolve("better-sqlite3")).href;
  // Inside the repository, so that the bundle's run-time lookups (src/shared/sqlite.ts resolves
  // better-sqlite3's addon) find this repository's node_modules.
  const cache = fileURLToPath(new URL("../../node_modules/.cache/", import.meta.url));
  mkdirSync(cache, { recursive: true });
  bundleDir = mkdtempSync(join(cache, "ledge-kv-worker-"));
  const bundle = join(bundleDir, "kv.mjs");
  await build({
    entryPoints: [fileURLToPath(new URL("../../src/kv/index.ts", import.meta.url))],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: bundle,
    logLevel: "error",
    // The native module stays external and is loaded from this repository's node_modules.
    plugins: [{ name: "sqlite-external", setup: (b) => b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: sqliteUrl, external: true })) }],
  });
  bundleUrl = pathToFileURL(bundle).href;
});

/** Runs `source` (with BUNDLE_URL and other placeholders replaced) in a new worker; resolves with its message. */
async function runWorker(source: string, replacements: Record<string, unknown>): Promise<unknown> {
  let code = source.replace("BUNDLE_URL", JSON.stringify(bundleUrl));
  for (const [k, v] of Object.entries(replacements)) code = code.replaceAll(k, JSON.stringify(v));
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
  try {
    return await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (exitCode) => reject(new Error(`worker exited with ${exitCode} before answering`)));
    });
  } finally {
    await worker.terminate();
  }
}

test("the binding works in a worker thread whose global process is not Node's", async () => {
  const result = (await runWorker(WORKER_SOURCE, { DB_PATH: join(dir, "kv", "WORKER.sqlite") })) as Record<string, unknown>;

  assert.deepEqual(result.leaked, [true, "undefined"], "the thread's global process is left as it was");
  assert.equal(result.text, "hello");
  assert.deepEqual(result.withMeta, { value: "hello", metadata: { by: "worker" }, cacheStatus: null });
  assert.deepEqual(result.bytes, [1, 2, 3]);
  assert.equal(result.streamed, "AB");
  assert.deepEqual(result.bulk, [["text", "hello"], ["missing", null]]);
  const page = result.page as { keys: { name: string }[]; list_complete: boolean; cursor?: string };
  assert.deepEqual(page.keys.map((k) => k.name), ["bytes", "stream"]);
  assert.equal(page.list_complete, false);
  assert.equal(result.purged, 0);
  assert.equal(result.limitError, "TypeError: Key name cannot be empty.");
});

const WRITER_SOURCE = `
const { KvStore, KVNamespace } = await import(BUNDLE_URL);
const { parentPort } = await import("node:worker_threads");
const kv = new KVNamespace(new KvStore(DB_PATH));
for (let i = 0; i < 400; i++) {
  await kv.put(WRITER + "/" + String(i).padStart(4, "0"), "v" + i);
  await kv.put("shared", WRITER);
}
parentPort.postMessage("done");
`;

test("writers in several threads share one file without SQLITE_BUSY", async () => {
  const dbPath = join(dir, "kv", "CONCURRENT.sqlite");
  const writers = ["w1", "w2", "w3", "w4"];
  const results = await Promise.all(writers.map((w) => runWorker(WRITER_SOURCE, { DB_PATH: dbPath, WRITER: w })));
  assert.deepEqual(results, ["done", "done", "done", "done"]);
  const { KvStore } = await import("../../src/kv/index.js");
  const store = new KvStore(dbPath);
  for (const w of writers) {
    const page = store.list({ prefix: `${w}/` });
    assert.equal(page.keys.length, 400, `every write of ${w} landed`);
  }
  assert.ok(writers.includes(new TextDecoder().decode(store.get("shared")!.value)), "last write wins on the shared key");
  store.close();
});
