/**
 * Opening one object's SQLite file, its hidden schema, and the named statements the KV-style API
 * and alarms run. User SQL never reaches the `_cf_` tables (see sql-guard.ts).
 */
import { Buffer } from "node:buffer";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import type Database from "better-sqlite3";
import { openSqlite } from "../shared/sqlite.js";

export type Db = Database.Database;
export type Stmt = Database.Statement;

/** A WAL grown beyond this by one big transaction is trimmed back after the next checkpoint. */
const WAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024;

/** Row key of the alarm in `_cf_METADATA`; the same layout as workerd's SQLite-backed objects. */
const ALARM_ROW = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS _cf_METADATA (key INTEGER PRIMARY KEY, value BLOB);
`;

/**
 * Opens (creating if needed) the database and its folder. WAL mode with synchronous=NORMAL makes
 * a COMMIT cost no fsync; durability across power loss is added by commit.ts with an asynchronous
 * fdatasync of the WAL. Automatic checkpoints are off because they would run inside a COMMIT on
 * the object's thread at a moment we do not choose; commit.ts checkpoints once data is durable.
 * After a checkpoint SQLite writes the WAL again from its start; keeping the file (up to
 * WAL_SIZE_LIMIT_BYTES) means later commits overwrite blocks that already exist, so the fdatasync
 * of durability "full" has no file-size metadata to journal: measured here, that doubles the
 * commits per second compared with a WAL truncated after every checkpoint.
 */
export function openDatabase(dbPath: string): Db {
  const inMemory = dbPath === ":memory:";
  if (!inMemory) {
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    if (!fs.existsSync(dbPath)) copyTemplate(dbPath);
  }
  const db = openSqlite(dbPath);
  try {
    // synchronous first: switching a new file to WAL under the default FULL costs extra fsyncs.
    db.pragma("synchronous = NORMAL");
    if (!inMemory) db.pragma("journal_mode = WAL");
    db.pragma("wal_autocheckpoint = 0");
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    // Cloudflare enforces foreign keys in Durable Object SQLite; better-sqlite3 defaults to on too,
    // but say it here so the behaviour does not depend on a build flag.
    db.pragma("foreign_keys = ON");
    db.exec(SCHEMA);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * A new object's file starts as a copy of an empty database that is already in WAL mode and has
 * the hidden schema: creating those from scratch costs several fsyncs (measured here: ~20 ms per
 * new object; the copy and open ~1 ms), which is most of the first request to an untouched object.
 * One template per folder, made once, atomically (written aside, then renamed).
 */
function copyTemplate(dbPath: string): void {
  const dir = path.dirname(dbPath);
  const template = path.join(dir, TEMPLATE_NAME);
  if (!fs.existsSync(template)) {
    const tmp = path.join(dir, `.template.${process.pid}.${Date.now()}.tmp`);
    const t = openSqlite(tmp);
    try {
      t.pragma("journal_mode = WAL");
      t.exec(SCHEMA);
      t.pragma("wal_checkpoint(TRUNCATE)");
    } finally {
      t.close();
    }
    fs.renameSync(tmp, template);
  }
  try {
    fs.copyFileSync(template, dbPath, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE);
  } catch (err) {
    // Another thread created the object's file first: open that one.
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

const TEMPLATE_NAME = ".template-v1.sqlite";

/** Every statement Ledge itself runs against one object's database, prepared once. */
export interface Statements {
  begin: Stmt;
  commit: Stmt;
  rollback: Stmt;
  kvGet: Stmt;
  kvPut: Stmt;
  kvDelete: Stmt;
  kvDeleteAll: Stmt;
  /** `?1` inclusive lower bound, `?2` exclusive upper bound (both as bytes), `?3` limit (-1 = none). */
  kvListAsc: Stmt;
  kvListDesc: Stmt;
  alarmGet: Stmt;
  alarmSet: Stmt;
  alarmDelete: Stmt;
  totalChanges: Stmt;
  firstUserSchemaObject: Stmt;
  hasSequenceTable: Stmt;
  pageCount: Stmt;
  pageSize: Stmt;
}

export function prepareStatements(db: Db): Statements {
  // List bounds are bound as BLOBs and cast to TEXT: a bound bytes value can express an upper bound
  // that is not valid UTF-8 (the byte after a prefix, or 0xFF for "no end"), and with the BINARY
  // collation TEXT comparison is plain byte order. The range stays usable by the primary key index.
  const listWhere = "WHERE key >= CAST(? AS TEXT) AND key < CAST(? AS TEXT)";
  return {
    begin: db.prepare("BEGIN"),
    commit: db.prepare("COMMIT"),
    rollback: db.prepare("ROLLBACK"),
    kvGet: db.prepare("SELECT value FROM _cf_KV WHERE key = ?").pluck(),
    kvPut: db.prepare("INSERT OR REPLACE INTO _cf_KV (key, value) VALUES (?, ?)"),
    kvDelete: db.prepare("DELETE FROM _cf_KV WHERE key = ?"),
    kvDeleteAll: db.prepare("DELETE FROM _cf_KV"),
    kvListAsc: db.prepare(`SELECT key, value FROM _cf_KV ${listWhere} ORDER BY key ASC LIMIT ?`).raw(),
    kvListDesc: db.prepare(`SELECT key, value FROM _cf_KV ${listWhere} ORDER BY key DESC LIMIT ?`).raw(),
    alarmGet: db.prepare(`SELECT value FROM _cf_METADATA WHERE key = ${ALARM_ROW}`).pluck(),
    alarmSet: db.prepare(`INSERT OR REPLACE INTO _cf_METADATA (key, value) VALUES (${ALARM_ROW}, ?)`),
    alarmDelete: db.prepare(`DELETE FROM _cf_METADATA WHERE key = ${ALARM_ROW}`),
    totalChanges: db.prepare("SELECT total_changes()").pluck(),
    // Triggers and views first, then virtual tables (dropping one drops its shadow tables), then
    // the rest; deleteAll drops one object at a time and asks again.
    firstUserSchemaObject: db.prepare(
      "SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'view', 'trigger') " +
        "AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' " +
        "ORDER BY CASE WHEN type = 'trigger' THEN 0 WHEN type = 'view' THEN 1 " +
        "WHEN sql LIKE 'CREATE VIRTUAL TABLE%' THEN 2 ELSE 3 END LIMIT 1",
    ),
    hasSequenceTable: db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'").pluck(),
    pageCount: db.prepare("PRAGMA page_count").pluck(),
    pageSize: db.prepare("PRAGMA page_size").pluck(),
  };
}

/** Quotes an identifier for the few statements Ledge builds from schema names (deleteAll). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
