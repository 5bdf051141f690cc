import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate, setTimeout as sleep } from "node:timers/promises";
import type { ObjectStorage } from "../../src/storage/index.js";
import { storageFixture } from "../helpers/storage.js";

const fixture = storageFixture("ledge-storage-txn-");
const open = fixture.open;

/** Committed keys, as a second connection to the file sees them. */
function committedKeys(s: ObjectStorage): () => string[] {
  const db = fixture.secondConnection(s.dbPath);
  return () => db.prepare("SELECT key FROM _cf_KV ORDER BY key").pluck().all() as string[];
}

const keys = async (s: ObjectStorage) => [...(await s.list()).keys()];

describe("transaction()", () => {
  test("commits the closure's writes and returns its value", async () => {
    const s = open();
    const result = await s.transaction(async (txn) => {
      await txn.put("a", 1);
      await txn.put({ b: 2 });
      return (await txn.get("a")) as number;
    });
    assert.equal(result, 1);
    assert.deepEqual(await keys(s), ["a", "b"]);
  });

  test("txn.rollback() undoes the writes; later operations on txn reject", async () => {
    const s = open();
    await s.put("before", 1);
    const result = await s.transaction(async (txn) => {
      await txn.put("inside", 1);
      await txn.delete("before");
      txn.rollback();
      await assert.rejects(txn.get("inside"), /after rollback/);
      await assert.rejects(txn.put("x", 1), /after rollback/);
      await assert.rejects(txn.list(), /after rollback/);
      return "done";
    });
    assert.equal(result, "done");
    assert.deepEqual(await keys(s), ["before"]);
  });

  test("a throwing closure rolls back its writes and rejects with the same error; earlier writes stay", async () => {
    const s = open();
    void s.put("earlier", 1);
    const boom = new Error("boom");
    await assert.rejects(
      s.transaction(async (txn) => {
        await txn.put("inside", 1);
        await txn.setAlarm(Date.now() + 60_000);
        throw boom;
      }),
      (err) => err === boom,
    );
    assert.deepEqual(await keys(s), ["earlier"]);
    assert.equal(await s.getAlarm(), null);
    await s.whenDurable();
  });

  test("the flush waits while a transaction awaits other I/O, then commits everything together", async () => {
    const s = open();
    const committed = committedKeys(s);
    const commitsBefore = s.stats.commits;
    // `io` stands for a fetch() inside the transaction: it settles only when the test says so,
    // after several turns of the event loop have passed.
    let finishIo!: () => void;
    const io = new Promise<void>((resolve) => (finishIo = resolve));
    const txn = s.transaction(async (t) => {
      await t.put("first", 1);
      await io;
      await t.put("second", 2);
    });
    await setImmediate();
    await setImmediate();
    assert.deepEqual(committed(), [], "nothing is committed while the transaction is open");
    assert.equal(s.stats.commits, commitsBefore);
    finishIo();
    await txn;
    await s.whenDurable();
    assert.deepEqual(committed(), ["first", "second"]);
  });

  test("a nested transaction that throws is rolled back alone", async () => {
    const s = open();
    await s.transaction(async (outer) => {
      await outer.put("outer", 1);
      await assert.rejects(
        s.transaction(async (inner) => {
          await inner.put("inner", 1);
          throw new Error("inner fails");
        }),
        /inner fails/,
      );
      await outer.put("outer-after", 1);
    });
    assert.deepEqual(await keys(s), ["outer", "outer-after"]);
  });

  test("side-by-side transactions finishing out of order both commit", async () => {
    const s = open();
    const [a, b] = await Promise.all([
      s.transaction(async (t) => {
        await t.put("a", 1);
        return "a";
      }),
      s.transaction(async (t) => {
        await t.put("b", 1);
        await sleep(20);
        await t.put("b2", 1);
        return "b";
      }),
    ]);
    assert.deepEqual([a, b], ["a", "b"]);
    await s.whenDurable();
    assert.deepEqual(await keys(s), ["a", "b", "b2"]);
  });

  test("txn has no deleteAll(), and its operations reject once the closure has finished", async () => {
    const s = open();
    let saved: Parameters<Parameters<ObjectStorage["transaction"]>[0]>[0] | undefined;
    await s.transaction(async (txn) => {
      assert.throws(() => txn.deleteAll(), /within a transaction/);
      saved = txn;
    });
    await assert.rejects(saved!.get("x"), /already completed/);
    assert.throws(() => saved!.rollback(), /already completed/);
  });
});

describe("transactionSync()", () => {
  test("returns the callback's value and keeps its writes", async () => {
    const s = open();
    const value = s.transactionSync(() => {
      s.sql.exec("CREATE TABLE t (v)");
      s.sql.exec("INSERT INTO t VALUES (1)");
      s.kv.put("k", "v");
      return 42;
    });
    assert.equal(value, 42);
    assert.equal(s.sql.exec("SELECT count(*) AS n FROM t").one().n, 1);
    assert.equal(await s.get("k"), "v");
  });

  test("a throwing callback rolls back SQL and KV writes and rethrows", async () => {
    const s = open();
    s.sql.exec("CREATE TABLE t (v)");
    assert.throws(
      () =>
        s.transactionSync(() => {
          s.sql.exec("INSERT INTO t VALUES (1)");
          s.kv.put("k", "v");
          throw new Error("nope");
        }),
      /nope/,
    );
    assert.equal(s.sql.exec("SELECT count(*) AS n FROM t").one().n, 0);
    assert.equal(await s.get("k"), undefined);
    await s.whenDurable();
    assert.equal(s.broken, null);
  });

  test("nests: an inner failure caught by the outer callback undoes only the inner writes", () => {
    const s = open();
    s.transactionSync(() => {
      s.kv.put("outer", 1);
      try {
        s.transactionSync(() => {
          s.kv.put("inner", 1);
          throw new Error("inner");
        });
      } catch {
        // The outer transaction carries on.
      }
      s.kv.put("outer2", 2);
    });
    assert.deepEqual([...s.kv.list()].map(([k]) => k), ["outer", "outer2"]);
  });

  test("works inside transaction() and joins the turn's batch", async () => {
    const s = open();
    const committed = committedKeys(s);
    const before = s.stats.commits;
    await s.transaction(async () => {
      s.transactionSync(() => s.kv.put("a", 1));
      await s.put("b", 2);
    });
    void s.put("c", 3);
    assert.deepEqual(committed(), []);
    await s.whenDurable();
    assert.deepEqual(committed(), ["a", "b", "c"]);
    assert.equal(s.stats.commits, before + 1);
  });
});
