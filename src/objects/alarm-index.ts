/**
 * The node's list of pending Durable Object alarms, `<persist>/do/alarms.sqlite`: what the host
 * reads at start (`readAlarmIndex`) to fire alarms set before a restart. Only the isolates that
 * hold the objects write it (through alarms.ts): synchronously right after the object's own commit
 * (in the same turn, before the object's output gate opens), so an alarm acknowledged to user code
 * is in the list even after `kill -9`, and after an alarm's last retry failed. It is not fsynced
 * (`synchronous=NORMAL`): an fsync here runs on the object's thread inside its commit, and under
 * disk pressure it took long enough to delay the object's next events by over 100 ms. The cost is
 * that a power loss can drop the newest alarm changes from the list (the object's own storage
 * keeps them). Several threads write it: WAL and a busy timeout let them.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { openSqlite, type SqliteDatabase } from "../shared/sqlite.js";
import type { ObjectAddress } from "./address.js";

export interface AlarmRow {
  app: string;
  class: string;
  id: string;
  name: string | null;
  time: number;
}

export class AlarmIndex {
  readonly #persistDir: string;
  #opened: { db: SqliteDatabase; stmts: ReturnType<typeof prepare> } | null = null;

  constructor(persistDir: string) {
    this.#persistDir = persistDir;
  }

  /** Opened on first use, off the start-up path of apps without alarms. */
  get #stmts(): ReturnType<typeof prepare> {
    if (!this.#opened) {
      mkdirSync(join(this.#persistDir, "do"), { recursive: true });
      const db = openSqlite(join(this.#persistDir, "do", "alarms.sqlite"), { timeout: 5000 });
      this.#opened = { db, stmts: prepare(db) };
    }
    return this.#opened.stmts;
  }

  set(target: ObjectAddress, time: number | null): void {
    if (time === null) this.#stmts.remove.run(target.app, target.className, target.id);
    else this.#stmts.upsert.run(target.app, target.className, target.id, target.name ?? null, time);
  }

  /** Drops the object's alarm if it is still the one due at `time` (not replaced meanwhile). */
  removeIfAt(target: ObjectAddress, time: number): void {
    this.#stmts.removeIfAt.run(target.app, target.className, target.id, time);
  }

  all(): AlarmRow[] {
    return this.#stmts.all.all() as AlarmRow[];
  }

  close(): void {
    this.#opened?.db.close();
    this.#opened = null;
  }
}

function prepare(db: SqliteDatabase) {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(`CREATE TABLE IF NOT EXISTS alarms (
    app TEXT NOT NULL, class TEXT NOT NULL, id TEXT NOT NULL, name TEXT,
    time INTEGER NOT NULL, PRIMARY KEY (app, class, id)) WITHOUT ROWID`);
  return {
    upsert: db.prepare(
      "INSERT INTO alarms (app, class, id, name, time) VALUES (?, ?, ?, ?, ?) ON CONFLICT (app, class, id) DO UPDATE SET time = excluded.time, name = coalesce(excluded.name, alarms.name)",
    ),
    remove: db.prepare("DELETE FROM alarms WHERE app = ? AND class = ? AND id = ?"),
    removeIfAt: db.prepare("DELETE FROM alarms WHERE app = ? AND class = ? AND id = ? AND time = ?"),
    all: db.prepare("SELECT app, class, id, name, time FROM alarms"),
  };
}

/** Every alarm in the node's list (the host reads it once, at start). */
export function readAlarmIndex(persistDir: string): AlarmRow[] {
  const index = new AlarmIndex(persistDir);
  try {
    return index.all();
  } finally {
    index.close();
  }
}
