import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import type { ObjectStorage } from "../../src/storage/index.js";
import { storageFixture } from "../helpers/storage.js";

const fixture = storageFixture("ledge-storage-kv-");
const open = fixture.open;

describe("get / put / delete", () => {
  test("a single key round-trips, and a missing key reads as undefined", async () => {
    const s = open();
    assert.equal(await s.get("missing"), undefined);
    await s.put("k", "v");
    assert.equal(await s.get("k"), "v");
    assert.equal(await s.delete("k"), true);
    assert.equal(await s.delete("k"), false);
    assert.equal(await s.get("k"), undefined);
  });

  test("structured-clone values come back with their types", async () => {
    const s = open();
    const value = {
      date: new Date(1234),
      map: new Map<unknown, unknown>([["a", { inner: undefined }]]),
      set: new Set([1, 2n]),
      bytes: new Uint8Array([1, 2, 3]),
      floats: new Float64Array([0.5]),
      buffer: new Uint8Array([9, 8]).buffer,
      nested: { list: [1, "two", null], missing: undefined },
    };
    await s.put("v", value);
    const back = (await s.get("v")) as typeof value;
    assert.deepEqual(back, value);
    assert.equal(Object.getPrototypeOf(back.bytes), Uint8Array.prototype, "a Uint8Array, not a Buffer");
    assert.ok(back.buffer instanceof ArrayBuffer);
    assert.ok("missing" in back.nested, "undefined properties survive");
  });

  test("values that cannot be cloned are rejected with a DataCloneError", async () => {
    const s = open();
    await assert.rejects(s.put("f", { fn: () => 1 }), { name: "DataCloneError" });
    assert.equal(await s.get("f"), undefined);
  });

  test("put(key, undefined) is a TypeError, while undefined entries of put(entries) are skipped", async () => {
    const s = open();
    await assert.rejects(s.put("k", undefined), TypeError);
    await s.put({ a: 1, b: undefined, c: 3 });
    assert.deepEqual([...(await s.list()).keys()], ["a", "c"]);
  });

  test("put(entries, value) with a non-options second argument is a TypeError", async () => {
    const s = open();
    await assert.rejects(s.put({ a: 1 }, 5 as never), TypeError);
  });

  test("multi-key get returns only present keys in UTF-8 order; multi-key delete counts", async () => {
    const s = open();
    await s.put({ b: 2, a: 1, "\u{1F600}": "astral", "\uFFFF": "bmp" });
    const got = await s.get(["\u{1F600}", "zz", "b", "\uFFFF", "a"]);
    assert.deepEqual([...got.entries()], [
      ["a", 1],
      ["b", 2],
      ["\uFFFF", "bmp"],
      ["\u{1F600}", "astral"],
    ]);
    assert.equal(await s.delete(["a", "b", "nope"]), 2);
    assert.deepEqual([...(await s.list()).keys()], ["\uFFFF", "\u{1F600}"]);
  });

  test("non-string keys are converted to strings, as workerd does", async () => {
    const s = open();
    await s.put(42 as unknown as string, "x");
    assert.equal(await s.get("42"), "x");
  });

  test("a get right after an unawaited put sees the new value", async () => {
    const s = open();
    void s.put("k", 1);
    void s.put("k", 2);
    assert.equal(await s.get("k"), 2);
    void s.delete("k");
    assert.equal(await s.get("k"), undefined);
  });

  test("options are accepted and do not change results", async () => {
    const s = open();
    await s.put("k", 1, { allowUnconfirmed: true, allowConcurrency: true, noCache: true });
    assert.equal(await s.get("k", { allowConcurrency: true, noCache: true }), 1);
    assert.equal(await s.delete("k", { allowUnconfirmed: true }), true);
  });
});

describe("list", () => {
  const keys = ["a", "ab", "abc", "b", "ba", "c"];
  async function seeded(): Promise<ObjectStorage> {
    const s = open();
    await s.put(Object.fromEntries(keys.map((k, i) => [k, i])));
    return s;
  }
  const listKeys = async (s: ObjectStorage, o?: Parameters<ObjectStorage["list"]>[0]) => [...(await s.list(o)).keys()];

  test("no options lists everything in order, with values", async () => {
    const s = await seeded();
    const all = await s.list();
    assert.deepEqual([...all.keys()], keys);
    assert.equal(all.get("abc"), 2);
  });

  test("start is inclusive, startAfter exclusive, end exclusive", async () => {
    const s = await seeded();
    assert.deepEqual(await listKeys(s, { start: "ab", end: "b" }), ["ab", "abc"]);
    assert.deepEqual(await listKeys(s, { startAfter: "ab", end: "ba" }), ["abc", "b"]);
    assert.deepEqual(await listKeys(s, { start: "b", end: "b" }), []);
    assert.deepEqual(await listKeys(s, { start: "c", end: "a" }), []);
  });

  test("prefix, alone and combined with start and end", async () => {
    const s = await seeded();
    assert.deepEqual(await listKeys(s, { prefix: "ab" }), ["ab", "abc"]);
    assert.deepEqual(await listKeys(s, { prefix: "a", start: "ab" }), ["ab", "abc"]);
    assert.deepEqual(await listKeys(s, { prefix: "a", end: "abc" }), ["a", "ab"]);
    assert.deepEqual(await listKeys(s, { prefix: "a", start: "b" }), []);
    assert.deepEqual(await listKeys(s, { prefix: "b", end: "a" }), []);
    assert.deepEqual(await listKeys(s, { prefix: "" }), keys);
  });

  test("reverse keeps start/end meaning; reverse with limit returns the n largest keys", async () => {
    const s = await seeded();
    assert.deepEqual(await listKeys(s, { reverse: true }), [...keys].reverse());
    assert.deepEqual(await listKeys(s, { reverse: true, limit: 2 }), ["c", "ba"]);
    assert.deepEqual(await listKeys(s, { reverse: true, start: "ab", end: "b" }), ["abc", "ab"]);
    assert.deepEqual(await listKeys(s, { limit: 2 }), ["a", "ab"]);
  });

  test("keys are ordered by UTF-8 bytes: U+E000..U+FFFF sort before astral characters", async () => {
    const s = open();
    const astral = "\u{10000}";
    const privateUse = "\uE000";
    await s.put({ [astral]: 1, [privateUse]: 2, z: 3, "": 4, "a\u0000": 5, a: 6 });
    // JavaScript's own order would put the astral key (a surrogate pair, 0xD800...) first.
    assert.ok(astral < privateUse);
    assert.deepEqual(await listKeys(s), ["", "a", "a\u0000", "z", privateUse, astral]);
    assert.deepEqual(await listKeys(s, { startAfter: "a" }), ["a\u0000", "z", privateUse, astral]);
    assert.deepEqual(await listKeys(s, { start: privateUse }), [privateUse, astral]);
    assert.deepEqual(await listKeys(s, { reverse: true, limit: 1 }), [astral]);
  });

  test("a prefix ending in the highest BMP character still bounds correctly", async () => {
    const s = open();
    await s.put({ "x\uFFFF": 1, "x\uFFFFa": 2, "x\u{10000}": 3, y: 4 });
    assert.deepEqual(await listKeys(s, { prefix: "x\uFFFF" }), ["x\uFFFF", "x\uFFFFa"]);
  });

  test("both start and startAfter, or a limit that is not positive, are TypeErrors", async () => {
    const s = await seeded();
    await assert.rejects(s.list({ start: "a", startAfter: "b" }), TypeError);
    await assert.rejects(s.list({ limit: 0 }), TypeError);
    await assert.rejects(s.list({ limit: -3 }), TypeError);
  });
});

describe("limits", () => {
  const many = (count: number) => Array.from({ length: count }, (_, i) => `k${i}`);

  test("128 keys per batch are fine, 129 are a RangeError for get, put and delete", async () => {
    const s = open();
    await s.put(Object.fromEntries(many(128).map((k) => [k, 1])));
    assert.equal((await s.get(many(128))).size, 128);
    assert.equal(await s.delete(many(128)), 128);
    await assert.rejects(s.get(many(129)), RangeError);
    await assert.rejects(s.put(Object.fromEntries(many(129).map((k) => [k, 1]))), /128 keys/);
    await assert.rejects(s.delete(many(129)), RangeError);
  });

  test("KV-backed classes: a 2,048-byte key is fine, 2,049 bytes is a RangeError", async () => {
    const s = open({ storageKind: "kv" });
    await s.put("k".repeat(2048), 1);
    await assert.rejects(s.put("k".repeat(2049), 1), /2048 bytes/);
    await assert.rejects(s.get("é".repeat(1025)), RangeError, "counted in UTF-8 bytes");
  });

  test("KV-backed classes: a 128 KiB value is fine, one byte more than the serializer slack is not", async () => {
    const s = open({ storageKind: "kv" });
    await s.put("max", new Uint8Array(128 * 1024));
    await s.put("slack", new Uint8Array(128 * 1024 + 16));
    await assert.rejects(s.put("big", new Uint8Array(128 * 1024 + 64)), /131072 bytes/);
    assert.equal(await s.get("big"), undefined);
  });

  test("a failing entry leaves the whole put(entries) unapplied", async () => {
    const s = open({ storageKind: "kv" });
    await assert.rejects(s.put({ ok: 1, bad: new Uint8Array(200 * 1024) }), RangeError);
    assert.equal(await s.get("ok"), undefined);
  });

  test("SQLite-backed classes: key and value together up to 2 MB; larger is a RangeError", async () => {
    const s = open({ storageKind: "sqlite" });
    await s.put("k".repeat(4096), new Uint8Array(1024 * 1024));
    await assert.rejects(s.put("big", new Uint8Array(2 * 1024 * 1024)), /2097152 bytes/);
  });
});

describe("no yielding", () => {
  test("a chain of awaited storage calls completes before any other macrotask runs", async () => {
    const s = open();
    let otherEventRan = false;
    setImmediate(() => (otherEventRan = true));
    await s.put("a", 1);
    const value = await s.get("a");
    await s.list({ prefix: "a" });
    await s.delete("a");
    await s.setAlarm(Date.now() + 60_000);
    await s.getAlarm();
    assert.equal(value, 1);
    assert.equal(otherEventRan, false);
  });

  test("errors come back as rejected promises, not synchronous throws", () => {
    const s = open();
    const p = s.list({ start: "a", startAfter: "b" });
    assert.ok(p instanceof Promise);
    return assert.rejects(p, TypeError);
  });
});
