import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openObjectStorage, type ObjectStorage, type ObjectStorageOptions } from "../../src/storage/index.js";

let dir: string;
let n = 0;
const opened: ObjectStorage[] = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), "ledge-storage-alarm-"));
});
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

const NOW = 1_800_000_000_000;

/** Storage with a fixed clock and a log of onAlarmChange calls. */
function open(overrides: Partial<ObjectStorageOptions> = {}): { s: ObjectStorage; changes: (number | null)[] } {
  const changes: (number | null)[] = [];
  const s = openObjectStorage({
    dbPath: join(dir, `object-${++n}`, "db.sqlite"),
    storageKind: "sqlite",
    durability: "normal",
    deleteAllDeletesAlarm: false,
    clock: () => NOW,
    onAlarmChange: (t) => changes.push(t),
    ...overrides,
  });
  opened.push(s);
  return { s, changes };
}

describe("alarms", () => {
  for (const storageKind of ["sqlite", "kv"] as const) {
    test(`set, replace, read and delete the one alarm (${storageKind}-backed)`, async () => {
      const { s } = open({ storageKind });
      assert.equal(await s.getAlarm(), null);
      await s.setAlarm(NOW + 1000);
      assert.equal(await s.getAlarm(), NOW + 1000);
      await s.setAlarm(new Date(NOW + 5000));
      assert.equal(await s.getAlarm(), NOW + 5000, "a second setAlarm replaces the first");
      await s.deleteAlarm();
      assert.equal(await s.getAlarm(), null);
    });
  }

  test("a time in the past is stored as now", async () => {
    const { s } = open();
    await s.setAlarm(NOW - 60_000);
    assert.equal(await s.getAlarm(), NOW);
  });

  test("times that are not positive numbers or Dates are TypeErrors", async () => {
    const { s } = open();
    for (const bad of [0, -5, Number.NaN, "soon", new Date(Number.NaN)]) {
      await assert.rejects(s.setAlarm(bad as number), TypeError, String(bad));
    }
    assert.equal(await s.getAlarm(), null);
  });

  test("onAlarmChange is called once, after the commit, with the turn's final value", async () => {
    const { s, changes } = open();
    void s.setAlarm(NOW + 1000);
    void s.setAlarm(NOW + 2000);
    assert.deepEqual(changes, [], "not before the commit");
    await s.whenDurable();
    assert.deepEqual(changes, [NOW + 2000]);
    void s.deleteAlarm();
    await s.whenDurable();
    assert.deepEqual(changes, [NOW + 2000, null]);
  });

  test("no notification when a turn's alarm writes leave it as it was", async () => {
    const { s, changes } = open();
    void s.setAlarm(NOW + 1000);
    void s.deleteAlarm();
    await s.whenDurable();
    assert.deepEqual(changes, []);
  });

  test("a rolled-back setAlarm neither changes the alarm nor notifies", async () => {
    const { s, changes } = open();
    assert.throws(() =>
      s.transactionSync(() => {
        void s.setAlarm(NOW + 3000);
        throw new Error("rolled back");
      }),
    );
    await s.setAlarm(NOW + 1000);
    await s.deleteAlarm();
    await s.whenDurable();
    assert.deepEqual(changes, []);
    assert.equal(await s.getAlarm(), null);
  });

  test("setAlarm holds the output gate unless allowUnconfirmed", async () => {
    const { s } = open();
    await s.setAlarm(NOW + 1000, { allowUnconfirmed: true });
    let open1 = false;
    void s.whenDurable().then(() => (open1 = true));
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(open1, true);
    await s.setAlarm(NOW + 2000);
    let open2 = false;
    const gate = s.whenDurable().then(() => (open2 = true));
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(open2, false);
    await gate;
  });
});

describe("deleteAll and the alarm", () => {
  test("without delete_all_deletes_alarm the alarm survives deleteAll()", async () => {
    const { s, changes } = open({ deleteAllDeletesAlarm: false });
    await s.put("k", 1);
    await s.setAlarm(NOW + 1000);
    await s.whenDurable();
    await s.deleteAll();
    await s.whenDurable();
    assert.equal(await s.getAlarm(), NOW + 1000);
    assert.equal(await s.get("k"), undefined);
    assert.deepEqual(changes, [NOW + 1000]);
  });

  test("with delete_all_deletes_alarm deleteAll() removes it and notifies", async () => {
    const { s, changes } = open({ deleteAllDeletesAlarm: true });
    await s.setAlarm(NOW + 1000);
    await s.whenDurable();
    await s.deleteAll();
    await s.whenDurable();
    assert.equal(await s.getAlarm(), null);
    assert.deepEqual(changes, [NOW + 1000, null]);
  });

  test("deleteAll() on a SQLite-backed class also drops the app's tables, views and triggers", async () => {
    const { s } = open();
    s.sql.exec(`
      CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT);
      CREATE TABLE child (pid INTEGER REFERENCES parent(id));
      CREATE VIEW v AS SELECT * FROM child;
      CREATE TRIGGER tr AFTER INSERT ON parent BEGIN INSERT INTO child VALUES (new.id); END;
      CREATE VIRTUAL TABLE docs USING fts5(body);
      INSERT INTO parent DEFAULT VALUES;
      INSERT INTO docs VALUES ('hello');
    `);
    await s.deleteAll();
    await s.whenDurable();
    const left = s.sql.exec("SELECT name FROM sqlite_schema WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").toArray();
    assert.deepEqual(left, []);
    assert.equal(s.broken, null);
  });
});
