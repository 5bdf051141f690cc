/**
 * Per-file fixture for Durable Object storage unit tests: a temp folder, `open()` for a fresh
 * object's storage in it (closed after each test), and cleanup after the file.
 */
import { after, afterEach, before } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openObjectStorage, type ObjectStorage, type ObjectStorageOptions } from "../../src/storage/index.js";

export function storageFixture(prefix: string) {
  let dir = "";
  let n = 0;
  const opened: ObjectStorage[] = [];
  const readers: Database.Database[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
    for (const r of readers.splice(0)) r.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    get dir(): string {
      return dir;
    },
    /** A path for a new object's database file. */
    freshPath(): string {
      return join(dir, `object-${++n}`, "db.sqlite");
    },
    /** A second, read-only connection to a database file (it sees only committed data). */
    secondConnection(path: string): Database.Database {
      const db = new Database(path, { readonly: true });
      readers.push(db);
      return db;
    },
    /** A new object's storage (sqlite kind, durability "normal" unless overridden). */
    open(overrides: Partial<ObjectStorageOptions> = {}): ObjectStorage {
      const s = openObjectStorage({
        dbPath: join(dir, `object-${++n}`, "db.sqlite"),
        storageKind: "sqlite",
        durability: "normal",
        deleteAllDeletesAlarm: false,
        ...overrides,
      });
      opened.push(s);
      return s;
    },
  };
}
