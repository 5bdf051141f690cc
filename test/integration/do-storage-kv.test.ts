/**
 * The KV-style storage API of Durable Objects through the real CLI, for a SQLite-backed class and
 * a KV-backed one (`new_classes`): get/put/delete with one key or up to 128, list and its options
 * (UTF-8 byte order), deleteAll (and the alarm under `delete_all_deletes_alarm`), transaction with
 * rollback, transactionSync, sync, the synchronous `ctx.storage.kv`, structured-clone values read
 * back in a later request, and Cloudflare's key and value size limits.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { json, serveProject, wranglerToml, type DoProject } from "./do-helpers.js";

const WORKER = `
import { DurableObject } from "cloudflare:workers";

function error(e) {
  return { error: e.name, message: e.message };
}
async function caught(fn) {
  try {
    const v = await fn();
    return { ok: v === undefined ? null : v };
  } catch (e) {
    return error(e);
  }
}
const entries = (map) => [...map.entries()];
const keysOf = (map) => [...map.keys()];

class Scenarios extends DurableObject {
  async run(name, arg) {
    return this[name](arg);
  }

  async basic() {
    const s = this.ctx.storage;
    const missing = await s.get("k");
    await s.put("k", "v1");
    const got = await s.get("k");
    await s.put("k", "v2");
    const overwritten = await s.get("k");
    const deleted = await s.delete("k");
    const deletedAgain = await s.delete("k");
    return { missing: missing === undefined, got, overwritten, deleted, deletedAgain, after: (await s.get("k")) === undefined };
  }

  async batch() {
    const s = this.ctx.storage;
    await s.put({ b: 2, a: 1, c: 3 });
    const many = await s.get(["c", "a", "zz"]);
    const deleted = await s.delete(["a", "b", "nope"]);
    return { many: entries(many), isMap: many instanceof Map, deleted, left: entries(await s.list()) };
  }

  async batchLimits() {
    const s = this.ctx.storage;
    const keys = (n) => Array.from({ length: n }, (_, i) => "key" + i);
    const obj = (n) => Object.fromEntries(keys(n).map((k) => [k, 1]));
    return {
      put128: await caught(() => s.put(obj(128))),
      get128: await caught(async () => (await s.get(keys(128))).size),
      delete128: await caught(() => s.delete(keys(128))),
      get129: await caught(() => s.get(keys(129))),
      put129: await caught(() => s.put(obj(129))),
      delete129: await caught(() => s.delete(keys(129))),
    };
  }

  async listing() {
    const s = this.ctx.storage;
    // Inserted out of order. UTF-8 byte order puts U+FF21 before U+1F600; UTF-16 order would not.
    const keys = ["b", "a", "\\u{1F600}", "\\uFF21", "ab", "abc", "c", "\\u00e9", "B"];
    for (const k of keys) await s.put(k, k.toUpperCase());
    return {
      all: keysOf(await s.list()),
      values: entries(await s.list({ prefix: "ab" })),
      start: keysOf(await s.list({ start: "ab" })),
      startAfter: keysOf(await s.list({ startAfter: "ab" })),
      end: keysOf(await s.list({ end: "b" })),
      range: keysOf(await s.list({ start: "a", end: "c" })),
      prefix: keysOf(await s.list({ prefix: "a" })),
      reverse: keysOf(await s.list({ reverse: true })),
      reverseLimit: keysOf(await s.list({ reverse: true, limit: 3 })),
      limit: keysOf(await s.list({ limit: 2 })),
      reverseRange: keysOf(await s.list({ start: "a", end: "c", reverse: true })),
      both: await caught(() => s.list({ start: "a", startAfter: "a" })),
      badLimit: await caught(() => s.list({ limit: 0 })),
    };
  }

  async deleteAllWithAlarm() {
    const s = this.ctx.storage;
    await s.put({ x: 1, y: 2 });
    await s.setAlarm(Date.now() + 3_600_000);
    const alarmBefore = (await s.getAlarm()) !== null;
    await s.deleteAll();
    return { left: (await s.list()).size, alarmBefore, alarmAfter: await s.getAlarm() };
  }

  async transactions() {
    const s = this.ctx.storage;
    const committed = await s.transaction(async (txn) => {
      await txn.put("t1", "kept");
      return { seen: await txn.get("t1") };
    });
    let afterRollback;
    await s.transaction(async (txn) => {
      await txn.put("t2", "rolled back");
      txn.rollback();
      afterRollback = await caught(() => txn.put("t3", "after rollback"));
    });
    const thrown = await caught(() =>
      s.transaction(async (txn) => {
        await txn.put("t4", "thrown away");
        throw new RangeError("abandon this transaction");
      }),
    );
    return { committed, afterRollback, thrown, t1: await s.get("t1"), t2: (await s.get("t2")) ?? null, t3: (await s.get("t3")) ?? null, t4: (await s.get("t4")) ?? null };
  }

  async syncApi() {
    const s = this.ctx.storage;
    await s.put("unconfirmed", 1, { allowUnconfirmed: true });
    const synced = await s.sync();
    const kv = s.kv;
    kv.put("sync-a", { n: 1 });
    kv.put("sync-b", [2]);
    const got = kv.get("sync-a");
    const deleted = kv.delete("sync-b");
    const listed = [...kv.list({ prefix: "sync-" })];
    const viaAsync = await s.get("sync-a");
    const txnResult = s.transactionSync(() => {
      kv.put("sync-c", 3);
      return "returned";
    });
    const txnThrown = await caught(() =>
      s.transactionSync(() => {
        kv.put("sync-d", 4);
        throw new Error("undo sync-d");
      }),
    );
    return { synced: synced === undefined, got, deleted, listed, viaAsync, txnResult, txnThrown, c: kv.get("sync-c"), d: kv.get("sync-d") ?? null };
  }

  async writeValues() {
    await this.ctx.storage.put({
      date: new Date(1700000000000),
      map: new Map([["k", [1, 2]]]),
      set: new Set(["x", "y"]),
      buf: new Uint8Array([7, 8, 9]).buffer,
      bytes: new Uint8Array([1, 2]),
      nested: { a: { b: [1, { c: null }] } },
      big: 2n ** 70n,
      float: 0.1 + 0.2,
      str: "h\\u00e9llo \\u{1F600}",
    });
  }

  async readValues() {
    const m = await this.ctx.storage.get(["date", "map", "set", "buf", "bytes", "nested", "big", "float", "str"]);
    const v = (k) => m.get(k);
    return {
      date: v("date") instanceof Date ? v("date").getTime() : "not a Date",
      map: v("map") instanceof Map ? entries(v("map")) : "not a Map",
      set: v("set") instanceof Set ? [...v("set")] : "not a Set",
      buf: v("buf") instanceof ArrayBuffer ? [...new Uint8Array(v("buf"))] : "not an ArrayBuffer",
      bytes: v("bytes") instanceof Uint8Array ? [...v("bytes")] : "not a Uint8Array",
      nested: v("nested"),
      big: typeof v("big") === "bigint" ? v("big").toString() : "not a bigint",
      float: v("float"),
      str: v("str"),
    };
  }

  async limits() {
    const s = this.ctx.storage;
    const MB = 1024 * 1024;
    return {
      longKey: await caught(() => s.put("k".repeat(2049), 1)),
      longKeyGet: await caught(() => s.get("k".repeat(2049))),
      value128k: await caught(() => s.put("big", "v".repeat(128 * 1024 - 16))),
      valueOver128k: await caught(() => s.put("big", "v".repeat(128 * 1024 + 64))),
      value1mb: await caught(() => s.put("huge", "v".repeat(MB))),
      rowOver2mb: await caught(() => s.put("huge", "v".repeat(2 * MB))),
      batchOver2mb: await caught(() => s.put({ ok: 1, huge2: "v".repeat(2 * MB) })),
      okAfterBatch: (await s.get("ok")) ?? null,
    };
  }
}

export class Store extends Scenarios {}
export class Legacy extends Scenarios {}

export default {
  async fetch(request, env) {
    const [, cls, name, scenario] = new URL(request.url).pathname.split("/");
    const ns = cls === "legacy" ? env.LEGACY : env.STORE;
    try {
      return Response.json(await ns.getByName(name).run(scenario));
    } catch (e) {
      return Response.json({ thrown: e.name, message: e.message }, { status: 500 });
    }
  },
};
`;

let p: DoProject;

before(async () => {
  p = await serveProject({ "wrangler.toml": wranglerToml({ classes: ["Store"], kvClasses: ["Legacy"] }), "src/index.js": WORKER }, ["--isolates", "2"]);
});

after(async () => {
  await p?.close();
});

async function run(cls: "store" | "legacy", name: string, scenario: string): Promise<any> {
  const { status, body } = await json(`${p.url}/${cls}/${name}/${scenario}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

for (const cls of ["store", "legacy"] as const) {
  describe(`storage KV API (${cls === "store" ? "SQLite-backed" : "KV-backed"} class)`, () => {
    test("get, put and delete one key", async () => {
      assert.deepEqual(await run(cls, "basic", "basic"), {
        missing: true,
        got: "v1",
        overwritten: "v2",
        deleted: true,
        deletedAgain: false,
        after: true,
      });
    });

    test("get, put and delete several keys; get returns a Map in key order without missing keys", async () => {
      assert.deepEqual(await run(cls, "batch", "batch"), {
        many: [
          ["a", 1],
          ["c", 3],
        ],
        isMap: true,
        deleted: 2,
        left: [["c", 3]],
      });
    });

    test("batches are limited to 128 keys", async () => {
      const r = await run(cls, "limits128", "batchLimits");
      assert.deepEqual(r.put128, { ok: null });
      assert.deepEqual(r.get128, { ok: 128 });
      assert.deepEqual(r.delete128, { ok: 128 });
      for (const k of ["get129", "put129", "delete129"]) {
        assert.equal(r[k].error, "RangeError", k);
        assert.match(r[k].message, /129 keys.*128/, k);
      }
    });

    test("list orders keys by UTF-8 bytes and honours start, startAfter, end, prefix, reverse and limit", async () => {
      const r = await run(cls, "list", "listing");
      const all = ["B", "a", "ab", "abc", "b", "c", "\u00e9", "\uFF21", "\u{1F600}"];
      assert.deepEqual(r.all, all);
      assert.deepEqual(r.values, [
        ["ab", "AB"],
        ["abc", "ABC"],
      ]);
      assert.deepEqual(r.start, ["ab", "abc", "b", "c", "\u00e9", "\uFF21", "\u{1F600}"]);
      assert.deepEqual(r.startAfter, ["abc", "b", "c", "\u00e9", "\uFF21", "\u{1F600}"]);
      assert.deepEqual(r.end, ["B", "a", "ab", "abc"]);
      assert.deepEqual(r.range, ["a", "ab", "abc", "b"]);
      assert.deepEqual(r.prefix, ["a", "ab", "abc"]);
      assert.deepEqual(r.reverse, [...all].reverse());
      assert.deepEqual(r.reverseLimit, ["\u{1F600}", "\uFF21", "\u00e9"], "reverse + limit gives the largest keys");
      assert.deepEqual(r.limit, ["B", "a"]);
      assert.deepEqual(r.reverseRange, ["b", "abc", "ab", "a"]);
      assert.equal(r.both.error, "TypeError", "start and startAfter together are refused");
      assert.ok(r.badLimit.error, "limit 0 is refused");
    });

    test("deleteAll removes every key, and the alarm under delete_all_deletes_alarm (compatibility date 2026-11-01)", async () => {
      assert.deepEqual(await run(cls, "wipe", "deleteAllWithAlarm"), { left: 0, alarmBefore: true, alarmAfter: null });
    });

    test("transaction commits, rolls back on txn.rollback() and on a throw", async () => {
      const r = await run(cls, "txn", "transactions");
      assert.deepEqual(r.committed, { seen: "kept" });
      assert.equal(r.thrown.error, "RangeError");
      assert.equal(r.thrown.message, "abandon this transaction");
      assert.equal(r.t1, "kept");
      assert.equal(r.t2, null, "rollback() undoes the transaction's writes");
      assert.equal(r.t4, null, "a throw undoes the transaction's writes");
      assert.ok(r.afterRollback.error, `operations after rollback() throw: ${JSON.stringify(r.afterRollback)}`);
      assert.equal(r.t3, null);
    });

    test("structured-clone values survive storage and are read back in a later request", async () => {
      await run(cls, "values", "writeValues");
      assert.deepEqual(await run(cls, "values", "readValues"), {
        date: 1700000000000,
        map: [["k", [1, 2]]],
        set: ["x", "y"],
        buf: [7, 8, 9],
        bytes: [1, 2],
        nested: { a: { b: [1, { c: null }] } },
        big: (2n ** 70n).toString(),
        float: 0.1 + 0.2,
        str: "h\u00e9llo \u{1F600}",
      });
    });
  });
}

describe("storage KV API differences between the storage kinds", () => {
  test("SQLite-backed: transactionSync, sync() and the synchronous ctx.storage.kv", async () => {
    assert.deepEqual(await run("store", "sync", "syncApi"), {
      synced: true,
      got: { n: 1 },
      deleted: true,
      listed: [["sync-a", { n: 1 }]],
      viaAsync: { n: 1 },
      txnResult: "returned",
      txnThrown: { error: "Error", message: "undo sync-d" },
      c: 3,
      d: null,
    });
  });

  test("KV-backed: transactionSync and ctx.storage.kv are refused with a clear error", async () => {
    const { status, body } = await json(`${p.url}/legacy/sync/syncApi`);
    assert.equal(status, 500);
    assert.match(body.message, /only available to SQLite-backed Durable Object classes.*new_sqlite_classes/);
  });

  test("SQLite-backed: keys of any size, key + value up to 2 MB", async () => {
    const r = await run("store", "limits", "limits");
    assert.deepEqual(r.longKey, { ok: null });
    assert.deepEqual(r.value128k, { ok: null });
    assert.deepEqual(r.valueOver128k, { ok: null });
    assert.deepEqual(r.value1mb, { ok: null });
    assert.equal(r.rowOver2mb.error, "RangeError");
    assert.match(r.rowOver2mb.message, /2097152 bytes/);
    assert.equal(r.batchOver2mb.error, "RangeError");
    assert.equal(r.okAfterBatch, null, "a batch with one entry too large writes nothing");
  });

  test("KV-backed: keys up to 2,048 bytes and values up to 128 KiB", async () => {
    const r = await run("legacy", "limits", "limits");
    assert.equal(r.longKey.error, "RangeError");
    assert.match(r.longKey.message, /2048 bytes/);
    assert.equal(r.longKeyGet.error, "RangeError", "reads check the key size too");
    assert.deepEqual(r.value128k, { ok: null });
    assert.equal(r.valueOver128k.error, "RangeError");
    assert.match(r.valueOver128k.message, /131072 bytes/);
    assert.equal(r.value1mb.error, "RangeError");
  });
});
