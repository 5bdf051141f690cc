/**
 * The KV binding as a Worker sees it through `ledge serve`: every read type, every value type of
 * `put`, bulk reads, metadata and expiry options, delete, list, every limit error, expiry of keys
 * whose time has passed, and persistence across a restart of the CLI.
 *
 * Expiry through the CLI: the binding refuses expirations under 60 s and the CLI has no clock to
 * advance, so these tests write rows straight into the namespace's SQLite file, one with an
 * expiration already past and one a few seconds ahead, and watch the Worker stop seeing them.
 * Expiry after a 60 s `expirationTtl` is covered at the unit level with an injected clock
 * (test/unit/kv-namespace.test.ts).
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { eventually, removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";
import { KV_WORKER, kvErr, kvOk, kvToml, type KvOp, type ListPage } from "./kv-helpers.js";

const NAMESPACE_ID = "kv-binding-ns";
let dir: string;
let stateDir: string;
let ledge: RunningLedge;
const url = () => ledge.url;

before(async () => {
  dir = writeProject({ "wrangler.toml": kvToml("kv-binding", [["KV", NAMESPACE_ID]]), "src/index.js": KV_WORKER }, "ledge-kv-binding-");
  stateDir = mkdtempSync(join(tmpdir(), "ledge-kv-binding-state-"));
  ledge = await startLedge(dir, { args: ["--persist-to", stateDir, "--no-access-log"] });
});

after(async () => {
  await ledge?.kill();
  removeDir(dir);
  removeDir(stateDir);
});

const utf8 = (s: string) => [...Buffer.from(s, "utf8")];
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("reads", () => {
  test("text (the default), json, arrayBuffer and stream of one value", async () => {
    const value = JSON.stringify({ greeting: "héllo ✓", n: [1, 2] });
    await kvOk(url(), { method: "put", key: "doc", value: { text: value } });
    assert.equal(await kvOk(url(), { method: "get", key: "doc" }), value);
    assert.equal(await kvOk(url(), { method: "get", key: "doc", options: "text" }), value);
    assert.equal(await kvOk(url(), { method: "get", key: "doc", options: { type: "text", cacheTtl: 60 } }), value);
    assert.deepEqual(await kvOk(url(), { method: "get", key: "doc", options: "json" }), { greeting: "héllo ✓", n: [1, 2] });
    assert.deepEqual(await kvOk(url(), { method: "get", key: "doc", options: { type: "arrayBuffer" } }), {
      $type: "ArrayBuffer",
      bytes: utf8(value),
    });
    assert.deepEqual(await kvOk(url(), { method: "get", key: "doc", options: "stream" }), { $type: "ReadableStream", bytes: utf8(value) });
  });

  test("a missing key is null for every type", async () => {
    for (const type of ["text", "json", "arrayBuffer", "stream"]) {
      assert.equal(await kvOk(url(), { method: "get", key: "never-written", options: type }), null, type);
    }
  });

  test("json of a value that is not JSON rejects with a SyntaxError", async () => {
    await kvOk(url(), { method: "put", key: "not-json", value: { text: "{nope" } });
    const err = await kvErr(url(), { method: "get", key: "not-json", options: "json" });
    assert.equal(err.name, "SyntaxError");
  });
});

describe("put", () => {
  const bytes = [0, 1, 2, 127, 128, 200, 255];
  for (const as of ["ArrayBuffer", "Uint8Array", "DataView", "ReadableStream"] as const) {
    test(`a ${as} value comes back byte for byte`, async () => {
      await kvOk(url(), { method: "put", key: `bin-${as}`, value: { bytes, as } });
      assert.deepEqual(await kvOk(url(), { method: "get", key: `bin-${as}`, options: "arrayBuffer" }), { $type: "ArrayBuffer", bytes });
    });
  }

  test("a stream of many chunks is stored whole", async () => {
    const size = 300 * 1024 + 7;
    await kvOk(url(), { method: "put", key: "big-stream", value: { size, fill: 0x61, as: "ReadableStream" } });
    const text = (await kvOk(url(), { method: "get", key: "big-stream" })) as string;
    assert.equal(text.length, size);
    assert.match(text, /^a+$/);
  });

  test("an empty value is stored and read as an empty string, not null", async () => {
    await kvOk(url(), { method: "put", key: "empty", value: { text: "" } });
    assert.equal(await kvOk(url(), { method: "get", key: "empty" }), "");
    assert.deepEqual(await kvOk(url(), { method: "get", key: "empty", options: "stream" }), { $type: "ReadableStream", bytes: [] });
  });

  test("a number is stored as its text; an object is refused with a TypeError", async () => {
    await kvOk(url(), { method: "put", key: "num", value: { raw: 42 } });
    assert.equal(await kvOk(url(), { method: "get", key: "num" }), "42");
    const err = await kvErr(url(), { method: "put", key: "obj", value: { raw: { a: 1 } } });
    assert.equal(err.typeError, true);
    assert.match(err.message, /strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams/);
    assert.equal(await kvOk(url(), { method: "get", key: "obj" }), null);
  });

  test("overwriting a key replaces its value, metadata and expiration", async () => {
    await kvOk(url(), { method: "put", key: "over", value: { text: "one" }, options: { metadata: { v: 1 }, expirationTtl: 600 } });
    await kvOk(url(), { method: "put", key: "over", value: { text: "two" } });
    assert.deepEqual(await kvOk(url(), { method: "getWithMetadata", key: "over" }), { value: "two", metadata: null, cacheStatus: null });
    const page = (await kvOk(url(), { method: "list", options: { prefix: "over" } })) as ListPage;
    assert.deepEqual(page.keys, [{ name: "over" }]);
  });
});

describe("metadata and expiration", () => {
  test("getWithMetadata returns the value with its metadata, or nulls", async () => {
    const metadata = { owner: "ada", tags: ["x", "ÿ"], nested: { n: 1.5, t: true } };
    await kvOk(url(), { method: "put", key: "meta", value: { text: "v" }, options: { metadata } });
    assert.deepEqual(await kvOk(url(), { method: "getWithMetadata", key: "meta" }), { value: "v", metadata, cacheStatus: null });
    assert.deepEqual(await kvOk(url(), { method: "getWithMetadata", key: "meta", options: "arrayBuffer" }), {
      value: { $type: "ArrayBuffer", bytes: utf8("v") },
      metadata,
      cacheStatus: null,
    });
    await kvOk(url(), { method: "put", key: "no-meta", value: { text: "w" } });
    assert.deepEqual(await kvOk(url(), { method: "getWithMetadata", key: "no-meta" }), { value: "w", metadata: null, cacheStatus: null });
    assert.deepEqual(await kvOk(url(), { method: "getWithMetadata", key: "absent" }), { value: null, metadata: null, cacheStatus: null });
  });

  test("expiration and expirationTtl show in list(); keys stay readable until then", async () => {
    const at = nowSeconds() + 3600;
    const before = nowSeconds();
    await kvOk(url(), { method: "put", key: "exp/abs", value: { text: "a" }, options: { expiration: at, metadata: { k: 1 } } });
    await kvOk(url(), { method: "put", key: "exp/ttl", value: { text: "t" }, options: { expirationTtl: 120 } });
    const afterPut = nowSeconds();
    const page = (await kvOk(url(), { method: "list", options: { prefix: "exp/" } })) as ListPage;
    assert.deepEqual(page.keys[0], { name: "exp/abs", expiration: at, metadata: { k: 1 } });
    assert.equal(page.keys[1]!.name, "exp/ttl");
    const ttlExpiration = page.keys[1]!.expiration!;
    assert.ok(ttlExpiration >= before + 120 && ttlExpiration <= afterPut + 120, `expiration ${ttlExpiration} is now + 120 s`);
    assert.equal(await kvOk(url(), { method: "get", key: "exp/abs" }), "a");
    assert.equal(await kvOk(url(), { method: "get", key: "exp/ttl" }), "t");
  });
});

describe("bulk get", () => {
  test("an array of keys returns a Map in request order, null for missing keys", async () => {
    await kvOk(url(), { method: "put", key: "bulk/a", value: { text: '{"a":1}' }, options: { metadata: { m: "a" } } });
    await kvOk(url(), { method: "put", key: "bulk/b", value: { text: "[2]" } });
    const keys = ["bulk/b", "bulk/missing", "bulk/a"];
    assert.deepEqual(await kvOk(url(), { method: "get", key: keys }), {
      $type: "Map",
      entries: [
        ["bulk/b", "[2]"],
        ["bulk/missing", null],
        ["bulk/a", '{"a":1}'],
      ],
    });
    assert.deepEqual(await kvOk(url(), { method: "get", key: keys, options: "json" }), {
      $type: "Map",
      entries: [
        ["bulk/b", [2]],
        ["bulk/missing", null],
        ["bulk/a", { a: 1 }],
      ],
    });
    assert.deepEqual(await kvOk(url(), { method: "getWithMetadata", key: keys, options: { type: "json" } }), {
      $type: "Map",
      entries: [
        ["bulk/b", { value: [2], metadata: null }],
        ["bulk/missing", null],
        ["bulk/a", { value: { a: 1 }, metadata: { m: "a" } }],
      ],
    });
  });

  test("100 keys at once", async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `bulk100/${i}`);
    await kvOk(url(), { method: "put", key: "bulk100/42", value: { text: "found" } });
    const map = (await kvOk(url(), { method: "get", key: keys })) as { entries: [string, unknown][] };
    assert.equal(map.entries.length, 100);
    assert.deepEqual(map.entries[42], ["bulk100/42", "found"]);
    assert.equal(map.entries.filter(([, v]) => v !== null).length, 1);
  });
});

test("delete removes a key and resolves to undefined; deleting a missing key succeeds", async () => {
  await kvOk(url(), { method: "put", key: "doomed", value: { text: "x" } });
  assert.deepEqual(await kvOk(url(), { method: "delete", key: "doomed" }), { $type: "undefined" });
  assert.equal(await kvOk(url(), { method: "get", key: "doomed" }), null);
  assert.deepEqual(await kvOk(url(), { method: "delete", key: "doomed" }), { $type: "undefined" });
});

describe("limits: each error reaches the Worker as a rejected promise with a clear message", () => {
  const MiB = 1024 * 1024;
  const cases: { what: string; op: KvOp; message: RegExp; typeError?: boolean }[] = [
    { what: "empty key", op: { method: "put", key: "", value: { text: "x" } }, message: /^Key name cannot be empty\.$/, typeError: true },
    { what: '"." as a key', op: { method: "get", key: "." }, message: /^"\." is not allowed as a key name\.$/, typeError: true },
    { what: '".." as a key', op: { method: "delete", key: ".." }, message: /^"\.\." is not allowed as a key name\.$/, typeError: true },
    {
      what: "a key of 513 bytes",
      op: { method: "put", key: "k".repeat(513), value: { text: "x" } },
      message: /^KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512\.$/,
    },
    {
      // 257 characters, 514 bytes: the limit counts UTF-8 bytes.
      what: "a key of 257 two-byte characters",
      op: { method: "get", key: "é".repeat(257) },
      message: /^KV GET failed: 414 UTF-8 encoded length of 514 exceeds key length limit of 512\.$/,
    },
    {
      what: "a value of 25 MiB + 1 byte",
      op: { method: "put", key: "too-big", value: { size: 25 * MiB + 1, as: "Uint8Array" } },
      message: /^KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400\.$/,
    },
    {
      what: "a stream longer than 25 MiB",
      op: { method: "put", key: "too-big-stream", value: { size: 25 * MiB + 1, as: "ReadableStream" } },
      message: /^KV PUT failed: 413 Value length of \d+ exceeds limit of 26214400\.$/,
    },
    {
      what: "metadata of 1,025 bytes",
      op: { method: "put", key: "meta-big", value: { text: "x" }, options: { metadata: { m: "x".repeat(1025 - 8) } } },
      message: /^KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024\.$/,
    },
    {
      what: "expirationTtl under 60",
      op: { method: "put", key: "ttl-short", value: { text: "x" }, options: { expirationTtl: 59 } },
      message: /^KV PUT failed: 400 Invalid expiration_ttl of 59\. Expiration TTL must be at least 60\.$/,
    },
    {
      what: "an expiration in the past",
      op: { method: "put", key: "exp-past", value: { text: "x" }, options: { expiration: 1_000_000 } },
      message: /^KV PUT failed: 400 Invalid expiration of 1000000\. Please specify integer greater than the current number of seconds since the UNIX epoch\.$/,
    },
    {
      what: "an expiration less than 60 s ahead",
      op: { method: "put", key: "exp-soon", value: { text: "x" }, options: { expiration: Math.floor(Date.now() / 1000) + 30 } },
      message: /^KV PUT failed: 400 Invalid expiration of \d+\. Expiration times must be at least 60 seconds in the future\.$/,
    },
    {
      what: "a list limit over 1,000",
      op: { method: "list", options: { limit: 1001 } },
      message: /^KV GET failed: 400 Invalid key_count_limit of 1001\. Please specify an integer less than or equal to 1000\.$/,
    },
    { what: "a cursor this node did not make", op: { method: "list", options: { cursor: "not a cursor!" } }, message: /^KV GET failed: 400 Invalid cursor\.$/ },
    {
      what: "a bulk get of 101 keys",
      op: { method: "get", key: Array.from({ length: 101 }, (_, i) => `k${i}`) },
      message: /^KV GET_BULK failed: 400 You can request a maximum of 100 keys$/,
    },
    { what: "a bulk get of no keys", op: { method: "get", key: [] }, message: /^KV GET_BULK failed: 400 You must request a minimum of 1 key$/ },
    {
      what: "a bulk get as arrayBuffer",
      op: { method: "get", key: ["a"], options: "arrayBuffer" },
      message: /^KV GET_BULK failed: 400 "arrayBuffer" is not a valid type\. Use "json" or "text"$/,
    },
    {
      what: "an unknown type",
      op: { method: "get", key: "a", options: "blob" },
      message: /^Unknown response type\. Possible types are "text", "arrayBuffer", "json", and "stream"\.$/,
      typeError: true,
    },
    {
      what: "a cacheTtl under 30",
      op: { method: "get", key: "a", options: { type: "text", cacheTtl: 10 } },
      message: /^KV GET failed: 400 Invalid cache_ttl of 10\. Cache TTL must be at least 30\.$/,
    },
  ];
  for (const c of cases) {
    test(c.what, async () => {
      const err = await kvErr(url(), c.op);
      assert.equal(err.sync, false, "rejected, not thrown synchronously");
      assert.match(err.message, c.message);
      assert.equal(err.typeError, c.typeError ?? false, `${err.name}: ${err.message}`);
    });
  }

  test("nothing was written by a refused put", async () => {
    for (const key of ["too-big", "too-big-stream", "meta-big", "ttl-short", "exp-past", "exp-soon"]) {
      assert.equal(await kvOk(url(), { method: "get", key }), null, key);
    }
  });

  test("the largest key, value and metadata are accepted", async () => {
    await kvOk(url(), { method: "put", key: "k".repeat(512), value: { text: "max key" } });
    assert.equal(await kvOk(url(), { method: "get", key: "k".repeat(512) }), "max key");
    await kvOk(url(), { method: "put", key: "max-value", value: { size: 25 * MiB, fill: 0x62, as: "ArrayBuffer" } });
    const page = (await kvOk(url(), { method: "list", options: { prefix: "max-value" } })) as ListPage;
    assert.deepEqual(page.keys, [{ name: "max-value" }]);
    await kvOk(url(), { method: "delete", key: "max-value" });
    const metadata = { m: "x".repeat(1024 - 8) };
    await kvOk(url(), { method: "put", key: "meta-max", value: { text: "x" }, options: { metadata, expirationTtl: 60 } });
    assert.deepEqual(await kvOk(url(), { method: "getWithMetadata", key: "meta-max" }), { value: "x", metadata, cacheStatus: null });
  });

  test("a bulk get whose values total more than 25 MiB", async () => {
    await kvOk(url(), { method: "put", key: "half-1", value: { size: 13 * MiB, as: "Uint8Array" } });
    await kvOk(url(), { method: "put", key: "half-2", value: { size: 13 * MiB, as: "Uint8Array" } });
    const err = await kvErr(url(), { method: "get", key: ["half-1", "half-2"] });
    assert.match(err.message, /^KV GET_BULK failed: 413 Total size of request exceeds the limit of 25MB$/);
    await kvOk(url(), { method: "delete", key: "half-1" });
    await kvOk(url(), { method: "delete", key: "half-2" });
  });
});

describe("expiry", () => {
  /** Writes a row the way the binding stores it, bypassing its checks, while the node runs. */
  function writeRow(key: string, value: string, expiration: number): void {
    const db = new Database(join(stateDir, "kv", `${NAMESPACE_ID}.sqlite`));
    try {
      db.pragma("busy_timeout = 5000");
      db.prepare("INSERT OR REPLACE INTO kv (key, expiration, metadata, value) VALUES (?, ?, NULL, ?)").run(key, expiration, Buffer.from(value));
    } finally {
      db.close();
    }
  }

  test("a key whose expiration has passed is invisible to get, getWithMetadata, bulk get and list", async () => {
    writeRow("expired/old", "stale", nowSeconds() - 10);
    writeRow("expired/live", "fresh", nowSeconds() + 3600);
    assert.equal(await kvOk(url(), { method: "get", key: "expired/old" }), null);
    assert.deepEqual(await kvOk(url(), { method: "getWithMetadata", key: "expired/old" }), { value: null, metadata: null, cacheStatus: null });
    assert.deepEqual(await kvOk(url(), { method: "get", key: ["expired/old", "expired/live"] }), {
      $type: "Map",
      entries: [
        ["expired/old", null],
        ["expired/live", "fresh"],
      ],
    });
    const page = (await kvOk(url(), { method: "list", options: { prefix: "expired/" } })) as ListPage;
    assert.deepEqual(page.keys.map((k) => k.name), ["expired/live"]);
  });

  test("a key disappears as soon as its expiration second passes", async () => {
    const expiration = nowSeconds() + 3;
    writeRow("expiring", "soon gone", expiration);
    assert.equal(await kvOk(url(), { method: "get", key: "expiring" }), "soon gone");
    await eventually(async () => (await kvOk(url(), { method: "get", key: "expiring" })) === null, "the key to expire", 10_000, 100);
    assert.ok(Date.now() / 1000 >= expiration, "it was visible until its expiration");
    const page = (await kvOk(url(), { method: "list", options: { prefix: "expiring" } })) as ListPage;
    assert.deepEqual(page.keys, []);
  });
});

test("everything survives a restart of the CLI", async () => {
  await kvOk(url(), { method: "put", key: "persist/text", value: { text: "kept ✓" }, options: { metadata: { v: 2 }, expirationTtl: 3600 } });
  await kvOk(url(), { method: "put", key: "persist/bin", value: { bytes: [9, 8, 7, 0, 255], as: "ReadableStream" } });
  const listed = (await kvOk(url(), { method: "list", options: { prefix: "persist/" } })) as ListPage;
  await ledge.stop();
  ledge = await startLedge(dir, { args: ["--persist-to", stateDir, "--no-access-log"] });
  assert.deepEqual(await kvOk(url(), { method: "getWithMetadata", key: "persist/text" }), { value: "kept ✓", metadata: { v: 2 }, cacheStatus: null });
  assert.deepEqual(await kvOk(url(), { method: "get", key: "persist/bin", options: "arrayBuffer" }), { $type: "ArrayBuffer", bytes: [9, 8, 7, 0, 255] });
  assert.deepEqual(await kvOk(url(), { method: "list", options: { prefix: "persist/" } }), listed);
  assert.deepEqual(await kvOk(url(), { method: "get", key: "doc", options: "json" }), { greeting: "héllo ✓", n: [1, 2] }, "a key from an earlier test");
});
