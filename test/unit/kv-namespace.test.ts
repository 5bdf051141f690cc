import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KVNamespace, KvStore, KV_LIMITS } from "../../src/kv/index.js";

let dir: string;
let n = 0;
let now: number;
let store: KvStore;
let kv: KVNamespace;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "ledge-kv-ns-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  store?.close();
  now = 1_700_000_000_000;
  store = new KvStore(join(dir, `ns${++n}.sqlite`), { clock: () => now });
  kv = new KVNamespace(store);
});

const nowSeconds = () => Math.floor(now / 1000);

describe("get and put", () => {
  test("text is the default type; a missing key is null", async () => {
    assert.equal(await kv.get("missing"), null);
    await kv.put("greeting", "héllo");
    assert.equal(await kv.get("greeting"), "héllo");
    assert.equal(await kv.get("greeting", "text"), "héllo");
    assert.equal(await kv.get("greeting", { type: "text" }), "héllo");
  });

  test("json", async () => {
    await kv.put("obj", JSON.stringify({ a: [1, 2], b: null }));
    assert.deepEqual(await kv.get("obj", "json"), { a: [1, 2], b: null });
    assert.deepEqual(await kv.get("obj", { type: "json", cacheTtl: 60 }), { a: [1, 2], b: null });
    await kv.put("bad", "{nope");
    await assert.rejects(kv.get("bad", "json"), SyntaxError);
  });

  test("arrayBuffer returns exactly the stored bytes", async () => {
    await kv.put("bin", new Uint8Array([1, 2, 3, 250]));
    const ab = await kv.get("bin", "arrayBuffer");
    assert.ok(ab instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(ab)], [1, 2, 3, 250]);
  });

  test("stream returns a readable byte stream", async () => {
    await kv.put("s", "streamed value");
    const stream = (await kv.get("s", "stream")) as ReadableStream<Uint8Array>;
    assert.ok(stream instanceof ReadableStream);
    assert.equal(await new Response(stream).text(), "streamed value");
    await kv.put("empty", "");
    const empty = (await kv.get("empty", { type: "stream" })) as ReadableStream<Uint8Array>;
    assert.equal((await new Response(empty).arrayBuffer()).byteLength, 0);
  });

  test("put accepts ArrayBuffer, views of part of a buffer, streams and numbers", async () => {
    await kv.put("ab", new TextEncoder().encode("from-ab").buffer);
    assert.equal(await kv.get("ab"), "from-ab");
    const big = new TextEncoder().encode("xxMIDDLExx");
    await kv.put("view", new DataView(big.buffer, 2, 6));
    assert.equal(await kv.get("view"), "MIDDLE");
    big[2] = 0x5a;
    assert.equal(await kv.get("view"), "MIDDLE", "later writes to the caller's buffer do not leak in");
    const chunks = ["a", "bc", "def"].map((s) => new TextEncoder().encode(s));
    const stream = new ReadableStream({
      pull(c) {
        const next = chunks.shift();
        if (next) c.enqueue(next);
        else c.close();
      },
    });
    await kv.put("stream", stream);
    assert.equal(await kv.get("stream"), "abcdef");
    await kv.put("num", 42 as unknown as string);
    assert.equal(await kv.get("num"), "42");
  });

  test("put refuses values that are not strings, buffers or streams", async () => {
    const msg = "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.";
    await assert.rejects(kv.put("k", { a: 1 } as unknown as string), { name: "TypeError", message: msg });
    await assert.rejects(kv.put("k", null as unknown as string), { name: "TypeError", message: msg });
    const textStream = new ReadableStream({ start: (c) => { c.enqueue("text chunk"); c.close(); } });
    await assert.rejects(kv.put("k", textStream), { name: "TypeError", message: "This ReadableStream did not return bytes." });
  });

  test("unknown get type is a TypeError", async () => {
    await kv.put("k", "v");
    await assert.rejects(kv.get("k", "blob" as "text"), {
      name: "TypeError",
      message: 'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".',
    });
  });

  test("delete removes the key and tolerates missing keys", async () => {
    await kv.put("k", "v");
    await kv.delete("k");
    assert.equal(await kv.get("k"), null);
    await kv.delete("k");
  });
});

describe("metadata and getWithMetadata", () => {
  test("metadata round-trips through get, list and a second connection", async () => {
    const meta = { author: "ana", tags: ["x", "y"], n: 1.5, nested: { ok: true } };
    await kv.put("doc", "body", { metadata: meta });
    assert.deepEqual(await kv.getWithMetadata("doc"), { value: "body", metadata: meta, cacheStatus: null });
    assert.deepEqual(await kv.getWithMetadata("doc", "json").catch((e: Error) => e.name), "SyntaxError");
    const otherStore = new KvStore(store.dbPath);
    const other = new KVNamespace(otherStore);
    assert.deepEqual((await other.getWithMetadata("doc")) as object, { value: "body", metadata: meta, cacheStatus: null });
    otherStore.close();
    assert.deepEqual((await kv.list()).keys, [{ name: "doc", metadata: meta }]);
  });

  test("missing key and key without metadata give null metadata", async () => {
    assert.deepEqual(await kv.getWithMetadata("none"), { value: null, metadata: null, cacheStatus: null });
    await kv.put("plain", "p", { metadata: null });
    assert.deepEqual(await kv.getWithMetadata("plain", { type: "arrayBuffer" }).then((r) => (r as { metadata: unknown }).metadata), null);
  });
});

describe("bulk get", () => {
  test("returns a Map in request order with null for missing keys", async () => {
    await kv.put("a", "1");
    await kv.put("b", '{"x":2}', { metadata: { m: "b" } });
    const map = (await kv.get(["a", "missing", "b"])) as Map<string, unknown>;
    assert.ok(map instanceof Map);
    assert.deepEqual([...map.entries()], [["a", "1"], ["missing", null], ["b", '{"x":2}']]);
    const json = (await kv.get(["b"], "json")) as Map<string, unknown>;
    assert.deepEqual(json.get("b"), { x: 2 });
    const withMeta = (await kv.getWithMetadata(["b", "missing"], { type: "json" })) as Map<string, unknown>;
    assert.deepEqual(withMeta.get("b"), { value: { x: 2 }, metadata: { m: "b" } });
    assert.equal(withMeta.get("missing"), null);
  });

  test("limits and types", async () => {
    const keys = Array.from({ length: 101 }, (_, i) => `k${i}`);
    await assert.rejects(kv.get(keys), { message: "KV GET_BULK failed: 400 You can request a maximum of 100 keys" });
    assert.equal(((await kv.get(keys.slice(0, 100))) as Map<string, unknown>).size, 100);
    await assert.rejects(kv.get([]), { message: "KV GET_BULK failed: 400 You must request a minimum of 1 key" });
    await assert.rejects(kv.get(["a"], "arrayBuffer"), {
      message: 'KV GET_BULK failed: 400 "arrayBuffer" is not a valid type. Use "json" or "text"',
    });
    await assert.rejects(kv.get(["a"], { type: "stream" }), /"stream" is not a valid type/);
    await kv.put("notjson", "plain");
    await assert.rejects(kv.get(["notjson"], "json"), {
      message: "KV GET_BULK failed: 400 At least one of the requested keys corresponds to a non-json value",
    });
  });
});

describe("expiration", () => {
  test("expirationTtl and expiration set an absolute expiry; expired keys vanish at once", async () => {
    await kv.put("ttl", "t", { expirationTtl: 60 });
    await kv.put("abs", "a", { expiration: nowSeconds() + 120, metadata: { k: 1 } });
    const listed = await kv.list();
    assert.deepEqual(listed.keys, [
      { name: "abs", expiration: nowSeconds() + 120, metadata: { k: 1 } },
      { name: "ttl", expiration: nowSeconds() + 60 },
    ]);
    now += 60_000;
    assert.equal(await kv.get("ttl"), null, "expired exactly at its second");
    assert.deepEqual(await kv.getWithMetadata("ttl"), { value: null, metadata: null, cacheStatus: null });
    assert.deepEqual(((await kv.get(["ttl", "abs"])) as Map<string, unknown>).get("ttl"), null);
    assert.deepEqual((await kv.list()).keys.map((k) => k.name), ["abs"]);
    assert.equal(store.purgeExpired(), 1);
    now += 60_000;
    assert.equal(await kv.get("abs"), null);
    assert.equal(store.purgeExpired(), 1);
  });

  test("expirationTtl wins over expiration when both are given", async () => {
    await kv.put("both", "b", { expirationTtl: 100, expiration: nowSeconds() + 1000 });
    assert.equal((await kv.list()).keys[0]?.expiration, nowSeconds() + 100);
  });
});

describe("limit errors", () => {
  test("keys", async () => {
    for (const op of [(k: string) => kv.get(k), (k: string) => kv.put(k, "v"), (k: string) => kv.delete(k), (k: string) => kv.getWithMetadata(k)]) {
      await assert.rejects(op(""), { name: "TypeError", message: "Key name cannot be empty." });
      await assert.rejects(op("."), { name: "TypeError", message: '"." is not allowed as a key name.' });
      await assert.rejects(op(".."), { name: "TypeError", message: '".." is not allowed as a key name.' });
    }
    const long = "é".repeat(256) + "x"; // 513 UTF-8 bytes, only 257 UTF-16 units
    await assert.rejects(kv.put(long, "v"), {
      name: "Error",
      message: "KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.",
    });
    await assert.rejects(kv.get(long), { message: "KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512." });
    await assert.rejects(kv.delete(long), /^Error: KV DELETE failed: 414/);
    await kv.put("k".repeat(512), "ok");
    assert.equal(await kv.get("k".repeat(512)), "ok");
  });

  test("value size", async () => {
    const max = KV_LIMITS.maxValueBytes;
    await assert.rejects(kv.put("big", new Uint8Array(max + 1)), {
      message: `KV PUT failed: 413 Value length of ${max + 1} exceeds limit of ${max}.`,
    });
    await kv.put("big", new Uint8Array(max));
    assert.equal(((await kv.get("big", "arrayBuffer")) as ArrayBuffer).byteLength, max);
    let pulls = 0;
    const endless = new ReadableStream({
      pull(c) {
        pulls++;
        c.enqueue(new Uint8Array(1024 * 1024));
      },
    });
    await assert.rejects(kv.put("endless", endless), /^Error: KV PUT failed: 413 Value length of \d+ exceeds limit of 26214400\.$/);
    assert.ok(pulls < 40, "reading stops soon after the limit");
    assert.equal(await kv.get("endless"), null);
  });

  test("metadata size", async () => {
    const fits = { s: "x".repeat(1024 - 8) }; // {"s":"…"} is 8 bytes of framing
    assert.equal(JSON.stringify(fits).length, 1024);
    await kv.put("m", "v", { metadata: fits });
    await assert.rejects(kv.put("m", "v", { metadata: { s: "x".repeat(1017) } }), {
      message: "KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024.",
    });
  });

  test("expirationTtl and expiration", async () => {
    await assert.rejects(kv.put("k", "v", { expirationTtl: 59 }), {
      message: "KV PUT failed: 400 Invalid expiration_ttl of 59. Expiration TTL must be at least 60.",
    });
    await assert.rejects(kv.put("k", "v", { expirationTtl: 0 }), {
      message: "KV PUT failed: 400 Invalid expiration_ttl of 0. Please specify integer greater than 0.",
    });
    const soon = nowSeconds() + 59;
    await assert.rejects(kv.put("k", "v", { expiration: soon }), {
      message: `KV PUT failed: 400 Invalid expiration of ${soon}. Expiration times must be at least 60 seconds in the future.`,
    });
    const past = nowSeconds() - 1;
    await assert.rejects(kv.put("k", "v", { expiration: past }), {
      message: `KV PUT failed: 400 Invalid expiration of ${past}. Please specify integer greater than the current number of seconds since the UNIX epoch.`,
    });
    await kv.put("k", "v", { expiration: nowSeconds() + 60 });
    assert.equal(await kv.get("k"), "v");
  });

  test("cacheTtl is validated and otherwise ignored", async () => {
    await kv.put("k", "v");
    await assert.rejects(kv.get("k", { cacheTtl: 29 }), {
      message: "KV GET failed: 400 Invalid cache_ttl of 29. Cache TTL must be at least 30.",
    });
    await assert.rejects(kv.get(["k"], { cacheTtl: 10 }), /^Error: KV GET_BULK failed: 400 Invalid cache_ttl of 10/);
    assert.equal(await kv.get("k", { cacheTtl: 30 }), "v");
    await kv.put("k", "v2");
    assert.equal(await kv.get("k", { cacheTtl: 3600 }), "v2", "a long cacheTtl never serves a stale value");
  });

  test("list limit", async () => {
    await assert.rejects(kv.list({ limit: 1001 }), {
      message: "KV GET failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than or equal to 1000.",
    });
    await assert.rejects(kv.list({ cursor: "garbage!" }), { message: "KV GET failed: 400 Invalid cursor." });
    await assert.rejects(kv.list({ prefix: "p".repeat(513) }), /^Error: KV GET failed: 414/);
  });
});

describe("list", () => {
  test("default limit is 1,000 and pages continue with the cursor until list_complete", async () => {
    store.transaction(() => {
      for (let i = 0; i < 2345; i++) store.put(`item:${String(i).padStart(4, "0")}`, new Uint8Array([1]));
    });
    store.put("other", new Uint8Array([1]));
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await kv.list({ prefix: "item:", cursor });
      pages++;
      assert.equal(page.cacheStatus, null);
      names.push(...page.keys.map((k) => k.name));
      if (page.list_complete) {
        assert.equal("cursor" in page, false, "no cursor once complete");
        break;
      }
      assert.equal(page.keys.length, 1000);
      assert.equal(typeof page.cursor, "string");
      cursor = page.cursor;
    }
    assert.equal(pages, 3);
    assert.equal(names.length, 2345);
    assert.equal(names[0], "item:0000");
    assert.equal(names.at(-1), "item:2344");
  });

  test("limit, and 0 meaning the default as in workerd", async () => {
    for (const k of ["c", "a", "b"]) await kv.put(k, k);
    const first = await kv.list({ limit: 2 });
    assert.deepEqual(first.keys, [{ name: "a" }, { name: "b" }]);
    assert.equal(first.list_complete, false);
    const rest = await kv.list({ limit: 2, cursor: first.cursor });
    assert.deepEqual(rest, { keys: [{ name: "c" }], list_complete: true, cacheStatus: null });
    assert.equal((await kv.list({ limit: 0 })).keys.length, 3);
  });
});
