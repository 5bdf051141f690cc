import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KvStore, kvDbPath, startKvPurger } from "../../src/kv/index.js";
import { compareUtf8, decodeCursor, encodeCursor, prefixUpperBound } from "../../src/kv/store.js";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "ledge-kv-store-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
let n = 0;
const freshPath = () => join(dir, `db${++n}.sqlite`);

describe("kvDbPath", () => {
  test("keeps ordinary ids and places them under kv/", () => {
    assert.equal(kvDbPath("/state", "MY_KV"), "/state/kv/MY_KV.sqlite");
    assert.equal(kvDbPath("/state", "0f2ac74b498b48028cb68387c421e279"), "/state/kv/0f2ac74b498b48028cb68387c421e279.sqlite");
  });

  test("percent-encodes other characters, one-to-one", () => {
    assert.equal(kvDbPath("/s", "a b:c"), "/s/kv/a%20b%3Ac.sqlite");
    assert.equal(kvDbPath("/s", ".hidden"), "/s/kv/%2Ehidden.sqlite");
    // "%20" as an id must not collide with " ".
    assert.notEqual(kvDbPath("/s", "%20"), kvDbPath("/s", " "));
  });

  test("refuses ids that would leave the folder", () => {
    for (const id of ["", ".", "..", "../x", "a/b", "a\\b", "a\0b"]) {
      assert.throws(() => kvDbPath("/s", id), { code: "LEDGE_KV_NAMESPACE_ID" }, id);
    }
    assert.throws(() => kvDbPath("/s", "x".repeat(201)), /too long/);
  });
});

describe("KvStore", () => {
  test("put, get, overwrite and delete", () => {
    const store = new KvStore(freshPath());
    assert.equal(store.get("a"), null);
    store.put("a", bytes("one"), { metadata: { v: 1 } });
    const got = store.get("a");
    assert.ok(got);
    assert.equal(text(got.value), "one");
    assert.deepEqual(got.metadata, { v: 1 });
    assert.equal(got.expiration, null);
    store.put("a", bytes("two"));
    const again = store.get("a");
    assert.equal(text(again!.value), "two");
    assert.equal(again!.metadata, null, "an overwrite without metadata clears it");
    store.delete("a");
    assert.equal(store.get("a"), null);
    store.delete("never-existed");
    store.close();
  });

  test("values are plain Uint8Arrays owning their buffer, binary-safe", () => {
    const store = new KvStore(freshPath());
    const raw = new Uint8Array([0, 255, 1, 128, 0]);
    store.put("bin", raw);
    const got = store.get("bin")!.value;
    assert.equal(Object.getPrototypeOf(got), Uint8Array.prototype);
    assert.equal(got.buffer.byteLength, 5);
    assert.deepEqual([...got], [0, 255, 1, 128, 0]);
    store.put("empty", new Uint8Array(0));
    assert.equal(store.get("empty")!.value.byteLength, 0);
    store.close();
  });

  test("getMany returns every requested key, null for missing ones", () => {
    const store = new KvStore(freshPath());
    store.put("x", bytes("1"));
    store.put("y", bytes("2"), { metadata: "m" });
    const many = store.getMany(["x", "nope", "y"]);
    assert.deepEqual([...many.keys()], ["x", "nope", "y"]);
    assert.equal(text(many.get("x")!.value), "1");
    assert.equal(many.get("nope"), null);
    assert.equal(many.get("y")!.metadata, "m");
    store.close();
  });

  test("expired keys are invisible at once and removed by purgeExpired", () => {
    let now = 1_700_000_000_000;
    const path = freshPath();
    const store = new KvStore(path, { clock: () => now });
    const exp = now / 1000 + 120;
    store.put("short", bytes("s"), { expiration: exp, metadata: { a: 1 } });
    store.put("forever", bytes("f"));
    assert.equal(store.get("short")!.expiration, exp);
    assert.equal(store.purgeExpired(), 0);

    now = exp * 1000 - 1;
    assert.ok(store.get("short"), "still visible one ms before expiry");
    now = exp * 1000;
    assert.equal(store.get("short"), null, "gone exactly at expiry");
    assert.equal(store.getMany(["short"]).get("short"), null);
    assert.deepEqual(store.list().keys.map((k) => k.name), ["forever"]);

    // The row is still on disk until the purge; a reader with an earlier clock proves it.
    const past = new KvStore(path, { clock: () => exp * 1000 - 5000 });
    assert.ok(past.get("short"));
    assert.equal(store.purgeExpired(), 1);
    assert.equal(past.get("short"), null, "purged for every connection");
    assert.ok(store.get("forever"));
    past.close();
    store.close();
  });

  test("two connections to one file see each other's writes", () => {
    const path = freshPath();
    const a = new KvStore(path);
    const b = new KvStore(path);
    a.put("k", bytes("from a"));
    assert.equal(text(b.get("k")!.value), "from a");
    b.put("k", bytes("from b"));
    assert.equal(text(a.get("k")!.value), "from b");
    b.delete("k");
    assert.equal(a.get("k"), null);
    a.close();
    b.close();
  });

  test("data persists across close and reopen", () => {
    const path = join(dir, "nested", "deeper", "persist.sqlite");
    const a = new KvStore(path);
    a.put("kept", bytes("yes"), { expiration: 4_000_000_000, metadata: [1, 2] });
    a.close();
    assert.ok(existsSync(path));
    const b = new KvStore(path);
    const got = b.get("kept")!;
    assert.equal(text(got.value), "yes");
    assert.equal(got.expiration, 4_000_000_000);
    assert.deepEqual(got.metadata, [1, 2]);
    b.close();
  });

  test("list orders keys by UTF-8 bytes, not UTF-16 code units", () => {
    const store = new KvStore(freshPath());
    // U+FF5E (3 UTF-8 bytes, 0xEF...) sorts before U+1F600 (4 bytes, 0xF0...) in UTF-8, but after it
    // in UTF-16, where the emoji starts with the surrogate 0xD83D.
    const keys = ["\u{1F600}", "\uFF5E", "a", "B", "é", "ab", "a\u0000"];
    for (const k of keys) store.put(k, bytes(k));
    const listed = store.list().keys.map((k) => k.name);
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(listed, byBytes);
    assert.deepEqual(listed, ["B", "a", "a\u0000", "ab", "é", "\uFF5E", "\u{1F600}"]);
    assert.notDeepEqual(listed, [...keys].sort(), "JS default sort differs, so this test can tell them apart");
    store.close();
  });

  test("list with prefix, limit and cursor", () => {
    const store = new KvStore(freshPath());
    for (const k of ["a", "b/1", "b/2", "b/3", "b0", "c", "b/\u{10FFFF}", "b"]) store.put(k, bytes(k));
    const p1 = store.list({ prefix: "b/", limit: 2 });
    assert.deepEqual(p1.keys.map((k) => k.name), ["b/1", "b/2"]);
    assert.ok(p1.cursor);
    const p2 = store.list({ prefix: "b/", limit: 2, cursor: p1.cursor });
    assert.deepEqual(p2.keys.map((k) => k.name), ["b/3", "b/\u{10FFFF}"]);
    assert.equal(p2.cursor, undefined, "no cursor on the last page");
    assert.deepEqual(store.list({ prefix: "zzz" }).keys, []);
    assert.throws(() => store.list({ cursor: "!!" }), TypeError);
    store.close();
  });

  test("pagination over 2,500 keys returns every stable key once, in order, despite churn", () => {
    const store = new KvStore(freshPath());
    const stable: string[] = [];
    for (let i = 0; i < 2500; i++) {
      const k = `key-${String(i).padStart(5, "0")}`;
      store.put(k, bytes(String(i)));
      stable.push(k);
    }
    // Keys that will be deleted while listing (they exist only at the start).
    for (let i = 0; i < 300; i++) store.put(`key-${String(i * 7).padStart(5, "0")}-doomed`, bytes("d"));

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = store.list({ cursor, limit: 1000 });
      seen.push(...page.keys.map((k) => k.name));
      pages++;
      // Between pages: insert keys before and after the cursor position and delete doomed ones.
      for (let j = 0; j < 50; j++) {
        store.put(`key-${String(pages * 400 + j).padStart(5, "0")}-new`, bytes("n"));
        store.put(`aaa-${pages}-${j}`, bytes("before everything"));
      }
      for (let j = 0; j < 100; j++) store.delete(`key-${String((pages * 100 + j) * 7).padStart(5, "0")}-doomed`);
      if (page.cursor === undefined) break;
      cursor = page.cursor;
    }
    assert.ok(pages >= 3, `expected several pages, got ${pages}`);
    assert.ok(!seen.some((k) => k.startsWith("aaa-")), "keys inserted behind the cursor are not revisited");
    const onlyStable = seen.filter((k) => /^key-\d{5}$/.test(k));
    assert.deepEqual(onlyStable, stable, "every stable key exactly once, in order");
    assert.equal(new Set(seen).size, seen.length, "no key twice");
    const sorted = [...seen].sort(compareUtf8);
    assert.deepEqual(seen, sorted, "the whole listing is ordered");
    store.close();
  });
});

describe("cursor and prefix helpers", () => {
  test("cursor round-trips any key and rejects foreign text", () => {
    for (const k of ["a", "é/\u{1F600}", "x".repeat(512)]) assert.equal(decodeCursor(encodeCursor(k)), k);
    assert.equal(decodeCursor("not a cursor"), null);
    assert.equal(decodeCursor("YQ=="), null, "padding is not produced, so it is not accepted");
  });

  test("prefixUpperBound bounds exactly the keys with the prefix", () => {
    assert.equal(prefixUpperBound("ab"), "ac");
    assert.equal(prefixUpperBound("a\uD7FF"), "a\uE000");
    assert.equal(prefixUpperBound("a\u{10FFFF}"), "b");
    assert.equal(prefixUpperBound("\u{10FFFF}"), null);
  });
});

describe("startKvPurger", () => {
  test("purges expired keys in every namespace file", async () => {
    const state = join(dir, "purger-state");
    let now = 1_800_000_000_000;
    const clock = () => now;
    const one = new KvStore(kvDbPath(state, "ONE"), { clock });
    const two = new KvStore(kvDbPath(state, "TWO"), { clock });
    one.put("e", bytes("1"), { expiration: now / 1000 + 60 });
    two.put("e", bytes("2"), { expiration: now / 1000 + 60 });
    two.put("keep", bytes("k"));
    const purger = startKvPurger(state, { intervalMs: 20, clock });
    assert.equal(purger.purgeNow(), 0);
    now += 61_000;
    // The timer pass runs on its own; wait for it (bounded) instead of calling purgeNow.
    const deadline = Date.now() + 2000;
    const past = new KvStore(kvDbPath(state, "TWO"), { clock: () => 0 });
    while (past.get("e") !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(past.get("e"), null, "timer pass removed the expired row");
    assert.ok(past.get("keep"));
    const pastOne = new KvStore(kvDbPath(state, "ONE"), { clock: () => 0 });
    assert.equal(pastOne.get("e"), null, "other namespace purged too");
    pastOne.close();
    purger.stop();
    purger.stop();
    assert.equal(purger.purgeNow(), 0, "a stopped purger does nothing");
    past.close();
    one.close();
    two.close();
  });

  test("a missing state folder is not an error", () => {
    const purger = startKvPurger(join(dir, "does-not-exist"));
    assert.equal(purger.purgeNow(), 0);
    purger.stop();
  });
});
