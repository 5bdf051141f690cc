import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { setImmediate } from "node:timers";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ObjectStorage } from "../../src/storage/index.js";
import { storageFixture } from "../helpers/storage.js";
import { acquireWalSyncer, kDatabase } from "../../src/storage/internal.js";

const fixture = storageFixture("ledge-storage-commit-");
const freshPath = fixture.freshPath;
const storageModule = pathToFileURL(join(import.meta.dirname, "../../src/storage/index.ts")).href;

const open = fixture.open;

/** A second, independent connection to the same file: it sees only committed data. */
function reader(path: string): (sql: string) => unknown {
  const db = fixture.secondConnection(path);
  return (sql) => db.prepare(sql).pluck().get();
}

/** Lets one macrotask pass; the storage's flush was scheduled earlier, so it runs first. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Lets pending microtasks run without letting the event loop turn. */
const microtasks = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe("write coalescing", () => {
  test("writes of one turn are invisible to another connection until the flush, then all visible", async () => {
    const s = open();
    const count = reader(s.dbPath);
    void s.put("a", 1);
    void s.put("b", 2);
    s.sql.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    assert.equal(count("SELECT count(*) FROM _cf_KV"), 0);
    assert.equal(count("SELECT count(*) FROM sqlite_schema WHERE name = 't'"), 0);
    await nextTurn();
    assert.equal(count("SELECT count(*) FROM _cf_KV"), 2);
    assert.equal(count("SELECT count(*) FROM t"), 1);
  });

  test("awaiting storage between writes keeps them in one commit; separate turns commit separately", async () => {
    const s = open();
    const before = s.stats.commits;
    await s.put("a", 1);
    await s.get("a");
    await s.put("b", 2);
    await nextTurn();
    assert.equal(s.stats.commits, before + 1);
    await s.put("c", 3);
    await nextTurn();
    assert.equal(s.stats.commits, before + 2);
  });

  test("deleteAll() is one atomic write with the rest of the turn", async () => {
    const s = open();
    await s.put({ a: 1, b: 2 });
    s.sql.exec("CREATE TABLE t (x)");
    await s.whenDurable();
    const count = reader(s.dbPath);
    void s.deleteAll();
    void s.put("after", 1);
    assert.equal(count("SELECT count(*) FROM _cf_KV"), 2);
    await s.whenDurable();
    assert.equal(count("SELECT group_concat(key) FROM _cf_KV"), "after");
    assert.equal(count("SELECT count(*) FROM sqlite_schema WHERE name = 't'"), 0);
  });
});

describe("output gate", () => {
  test("whenDurable() resolves at once with nothing pending, and after the commit otherwise", async () => {
    const s = open();
    let idle = false;
    void s.whenDurable().then(() => (idle = true));
    await microtasks();
    assert.equal(idle, true);

    const count = reader(s.dbPath);
    void s.put("k", 1);
    let durable = false;
    const gate = s.whenDurable().then(() => (durable = true));
    await microtasks();
    assert.equal(durable, false, "the gate stays closed until the flush");
    await gate;
    assert.equal(count("SELECT count(*) FROM _cf_KV"), 1);
  });

  test("allowUnconfirmed writes do not hold whenDurable(), but sync() waits for them", async () => {
    const s = open();
    const count = reader(s.dbPath);
    void s.put("k", 1, { allowUnconfirmed: true });
    let gateOpen = false;
    void s.whenDurable().then(() => (gateOpen = true));
    await microtasks();
    assert.equal(gateOpen, true);
    assert.equal(count("SELECT count(*) FROM _cf_KV"), 0);
    await s.sync();
    assert.equal(count("SELECT count(*) FROM _cf_KV"), 1);
  });

  test("a COMMIT that fails breaks the storage: the gate rejects, later calls throw, nothing of the batch persists", async () => {
    const path = freshPath();
    const s = open({ dbPath: path });
    s.sql.exec(
      "CREATE TABLE parent (id INTEGER PRIMARY KEY); " +
        "CREATE TABLE child (pid INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)",
    );
    await s.whenDurable();
    void s.put("lost", 1);
    // A deferred foreign key violation is only detected by COMMIT itself.
    s.sql.exec("INSERT INTO child VALUES (42)");
    await assert.rejects(s.whenDurable(), { code: "LEDGE_STORAGE_COMMIT_FAILED", message: /FOREIGN KEY/ });
    const broken = s.broken;
    assert.ok(broken instanceof Error);
    await assert.rejects(s.get("lost"), (err) => err === broken);
    assert.throws(() => s.sql.exec("SELECT 1"), (err) => err === broken);
    await assert.rejects(s.whenDurable(), (err) => err === broken);
    s.close();
    const again = open({ dbPath: path });
    assert.equal(await again.get("lost"), undefined);
    assert.equal(again.sql.exec("SELECT count(*) AS n FROM child").one().n, 0);
  });

  test("a write that makes SQLite abandon the transaction (SQLITE_FULL) breaks the storage too", async () => {
    const path = freshPath();
    const s = open({ dbPath: path });
    await s.put("kept", 1);
    await s.whenDurable();
    const db = s[kDatabase];
    db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true }) as number}`);
    void s.put("small", 1);
    await assert.rejects(s.put("big", new Uint8Array(200_000)), { code: "SQLITE_FULL" });
    assert.equal(s.broken?.message.includes("full"), true);
    await assert.rejects(s.whenDurable(), { code: "LEDGE_STORAGE_COMMIT_FAILED" });
    await assert.rejects(s.put("after", 1), { code: "LEDGE_STORAGE_COMMIT_FAILED" });
    s.close();
    const again = open({ dbPath: path });
    assert.deepEqual([...(await again.list()).keys()], ["kept"], "the turn's earlier write went with it");
  });
});

describe("durability", () => {
  for (const durability of ["full", "normal"] as const) {
    test(`durability "${durability}" reaches the gate with the data committed`, async () => {
      const s = open({ durability });
      const count = reader(s.dbPath);
      await s.put("k", "v");
      await s.whenDurable();
      assert.equal(count("SELECT count(*) FROM _cf_KV"), 1);
      if (durability === "full") assert.ok(s.stats.fsyncs >= 1, "full waits for an fdatasync of the WAL");
      else assert.equal(s.stats.fsyncs, 0, "normal never fsyncs");
    });
  }

  test("the WAL syncer shares one fdatasync among every caller that arrives while one is in flight", async () => {
    const s = open({ durability: "normal" });
    await s.put("k", 1);
    await s.whenDurable();
    const syncer = acquireWalSyncer(`${s.dbPath}-wal`);
    try {
      const first = syncer.sync();
      const second = syncer.sync();
      const third = syncer.sync();
      assert.notEqual(first, second, "the running sync may predate the second caller's write");
      assert.equal(second, third, "later callers share the next sync");
      await Promise.all([first, second, third]);
      assert.equal(syncer.fsyncs, 2);
    } finally {
      syncer.release();
    }
  });

  test("many concurrent writers share commits and fsyncs", async () => {
    const s = open({ durability: "full" });
    const writers = 20;
    const rounds = 5;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let r = 0; r < rounds; r++) {
          await s.put(`w${w}-r${r}`, r);
          await s.whenDurable();
        }
      }),
    );
    assert.equal((await s.list()).size, writers * rounds);
    assert.ok(s.stats.fsyncs <= 2 * rounds, `expected about one fsync per round, got ${s.stats.fsyncs}`);
  });

  test("a WAL over ~1,000 pages is checkpointed once durable and then reused; close() truncates it", async () => {
    const s = open();
    const wal = `${s.dbPath}-wal`;
    await s.put("small", 1);
    await s.whenDurable();
    assert.equal(s.stats.checkpoints, 0, "a few pages do not trigger a checkpoint");
    for (let i = 0; i < 30; i++) await s.put(`k${i}`, new Uint8Array(200_000));
    await s.whenDurable();
    assert.equal(s.stats.checkpoints, 1);
    const grown = statSync(wal).size;
    for (let round = 0; round < 3; round++) {
      await s.put(`again${round}`, new Uint8Array(100_000));
      await s.whenDurable();
    }
    assert.equal(s.stats.checkpoints, 1, "the checkpointed frames no longer count");
    assert.equal(statSync(wal).size, grown, "later commits overwrite the WAL from its start");
    s.close();
    assert.ok(!existsSync(wal) || statSync(wal).size === 0);
  });
});

describe("persistence", () => {
  test("closing and reopening keeps KV data, SQL tables and the alarm, including unflushed writes", async () => {
    const path = freshPath();
    const s = open({ dbPath: path });
    await s.put("k", new Map([["x", 1]]));
    s.sql.exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('row')");
    await s.setAlarm(Date.now() + 3_600_000);
    const alarm = await s.getAlarm();
    void s.put("unflushed", true);
    s.close();
    const again = open({ dbPath: path });
    assert.deepEqual(await again.get("k"), new Map([["x", 1]]));
    assert.equal(await again.get("unflushed"), true);
    assert.equal(again.sql.exec("SELECT v FROM t").one().v, "row");
    assert.equal(await again.getAlarm(), alarm);
  });

  test("a closed storage refuses further calls; close() is idempotent", async () => {
    const s = open();
    await s.put("k", 1);
    s.close();
    s.close();
    await assert.rejects(s.get("k"), { code: "LEDGE_STORAGE_CLOSED" });
    assert.throws(() => s.sql.exec("SELECT 1"), { code: "LEDGE_STORAGE_CLOSED" });
  });

  test("after kill -9, acknowledged writes survive and an unflushed turn is lost entirely", () => {
    const path = freshPath();
    const script = join(dirname(path), "crash.mts");
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      script,
      `import { openObjectStorage } from ${JSON.stringify(storageModule)};
      const s = openObjectStorage({ dbPath: ${JSON.stringify(path)}, storageKind: "sqlite", durability: "normal", deleteAllDeletesAlarm: false });
      await s.put("acknowledged", 1);
      await s.whenDurable();
      void s.put("x", 1);
      void s.put("y", 2);
      process.kill(process.pid, "SIGKILL");`,
    );
    const child = spawnSync(process.execPath, ["--import", "tsx", script], {
      cwd: join(import.meta.dirname, "../.."), // where `--import tsx` resolves from
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(child.signal, "SIGKILL", child.stderr);
    const count = reader(path);
    assert.equal(count("SELECT group_concat(key) FROM _cf_KV"), "acknowledged");
  });

  test("works in a worker thread whose global process is not Node's, without setImmediate and global", async () => {
    // The isolate host deletes these before user code runs; objects are opened after that, and
    // that may be the thread's first load of the SQLite addon.
    const source = `
      const { parentPort, workerData } = require("node:worker_threads");
      (async () => {
        (await import(workerData.tsxApi)).register();
        globalThis.process = { env: {} }; for (const name of ["setImmediate", "clearImmediate", "global"]) delete globalThis[name];
        const standIn = globalThis.process;
        const { openObjectStorage } = await import(workerData.storageModule);
        const s = openObjectStorage({ dbPath: workerData.dbPath, storageKind: "sqlite", deleteAllDeletesAlarm: false });
        await s.put("bytes", new Uint8Array([1, 2]));
        s.sql.exec("CREATE TABLE t (b BLOB); INSERT INTO t VALUES (?)", new Uint8Array([3]));
        await s.whenDurable();
        const bytes = await s.get("bytes");
        const blob = s.sql.exec("SELECT b FROM t").one().b;
        const out = {
          uint8: Object.getPrototypeOf(bytes) === Uint8Array.prototype,
          blob: blob instanceof ArrayBuffer,
          fsyncs: s.stats.fsyncs,
          leaked: [globalThis.process === standIn ? null : "process", ...["setImmediate", "global"].filter((name) => name in globalThis)].filter(Boolean),
        };
        s.close();
        return out;
      })().then((r) => parentPort.postMessage(r), (e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
    `;
    const worker = new Worker(source, {
      eval: true,
      workerData: { tsxApi: import.meta.resolve("tsx/esm/api"), storageModule, dbPath: freshPath() },
    });
    try {
      const result = await new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      assert.deepEqual(result, { uint8: true, blob: true, fsyncs: 1, leaked: [] });
    } finally {
      await worker.terminate();
    }
  });
});
