/**
 * `ObjectStorage`: one Durable Object's `ctx.storage`, over its own SQLite file.
 *
 * Every async method does its work synchronously and returns an already-settled promise (rejected
 * on error), so the object's continuation runs as a microtask and no other event can interleave:
 * this is how Ledge keeps the input gate closed while an object awaits its own storage. Writes are
 * coalesced per turn and confirmed by `whenDurable()`; see commit.ts.
 */
import { LedgeError, NotSupportedError } from "../shared/errors.js";
import { AlarmOps } from "./alarm.js";
import { kDatabase } from "./internal.js";
import { CommitPipeline, type Durability } from "./commit.js";
import { openDatabase, prepareStatements, quoteIdentifier, type Db, type Statements } from "./database.js";
import { KvOps, SyncKvStorage, type ListOptions } from "./kv.js";
import type { StorageKind } from "./limits.js";
import { SqlStorage } from "./sql.js";
import { TransactionRunner, type DurableObjectTransaction } from "./transaction.js";

export interface ObjectStorageOptions {
  /** The object's SQLite file; parent folders are created. ":memory:" for tests (nothing to sync). */
  dbPath: string;
  /** "sqlite" for classes in `new_sqlite_classes`, "kv" for `new_classes`: limits and APIs differ. */
  storageKind: StorageKind;
  /** "full" (default) survives power loss; "normal" survives a process crash. See commit.ts. */
  durability?: Durability;
  /** Compat flag `delete_all_deletes_alarm` (compatibility_date >= 2026-02-24). */
  deleteAllDeletesAlarm: boolean;
  /** Called after the COMMIT that changed the alarm, with its new time (ms epoch) or null. Must not throw. */
  onAlarmChange?: (scheduledTimeMs: number | null) => void;
  /** Milliseconds since the epoch; default `Date.now`. */
  clock?: () => number;
}

/** Options of reads; both are hints only in Ledge (reads never yield, and there is no cache). */
export interface GetOptions {
  allowConcurrency?: boolean;
  noCache?: boolean;
}

/** Options of writes; `allowUnconfirmed` writes do not hold the output gate (`sync()` still waits). */
export interface PutOptions {
  allowConcurrency?: boolean;
  allowUnconfirmed?: boolean;
  noCache?: boolean;
}

export class ObjectStorage {
  readonly dbPath: string;
  readonly storageKind: StorageKind;
  readonly #opts: ObjectStorageOptions;
  readonly #db: Db;
  readonly #stmts: Statements;
  readonly #pipeline: CommitPipeline;
  readonly #kv: KvOps;
  readonly #alarm: AlarmOps;
  readonly #txns: TransactionRunner;
  #committedAlarm: number | null;
  #sql: SqlStorage | null = null;
  #syncKv: SyncKvStorage | null = null;
  #closed = false;

  constructor(opts: ObjectStorageOptions) {
    if (opts.storageKind !== "sqlite" && opts.storageKind !== "kv") {
      throw new TypeError(`storageKind must be "sqlite" or "kv", got ${String(opts.storageKind)}`);
    }
    this.#opts = opts;
    this.dbPath = opts.dbPath;
    this.storageKind = opts.storageKind;
    this.#db = openDatabase(opts.dbPath);
    try {
      this.#stmts = prepareStatements(this.#db);
      this.#pipeline = new CommitPipeline({
        db: this.#db,
        stmts: this.#stmts,
        durability: opts.durability ?? "full",
        dbPath: opts.dbPath === ":memory:" ? null : opts.dbPath,
        onCommitted: () => this.#afterCommit(),
      });
    } catch (err) {
      this.#db.close();
      throw err;
    }
    this.#kv = new KvOps(this.#stmts, this.#pipeline, opts.storageKind);
    this.#alarm = new AlarmOps(this.#stmts, this.#pipeline, opts.clock ?? Date.now);
    this.#txns = new TransactionRunner(this.#db, this.#pipeline);
    this.#committedAlarm = this.#alarm.read();
  }

  // ---- The DurableObjectStorage API -------------------------------------------------------------

  get<T = unknown>(key: string, options?: GetOptions): Promise<T | undefined>;
  get<T = unknown>(keys: string[], options?: GetOptions): Promise<Map<string, T>>;
  get(keyOrKeys: string | string[], _options?: GetOptions): Promise<unknown> {
    return settle(() =>
      Array.isArray(keyOrKeys) ? this.#kv.getMany(keyOrKeys.map(String)) : this.#kv.get(String(keyOrKeys)),
    );
  }

  put<T = unknown>(key: string, value: T, options?: PutOptions): Promise<void>;
  put<T = unknown>(entries: Record<string, T>, options?: PutOptions): Promise<void>;
  put(keyOrEntries: string | Record<string, unknown>, valueOrOptions?: unknown, options?: PutOptions): Promise<void> {
    return settle(() => {
      if (typeof keyOrEntries === "object" && keyOrEntries !== null) {
        if (valueOrOptions !== undefined && (typeof valueOrOptions !== "object" || valueOrOptions === null)) {
          throw new TypeError(
            "put() may only be called with a single key-value pair and optional options as " +
              "put(key, value, options) or with multiple key-value pairs and optional options as put(entries, options)",
          );
        }
        this.#kv.putMany(keyOrEntries, confirmed(valueOrOptions as PutOptions | undefined));
      } else {
        this.#kv.put(String(keyOrEntries), valueOrOptions, confirmed(options));
      }
    });
  }

  delete(key: string, options?: PutOptions): Promise<boolean>;
  delete(keys: string[], options?: PutOptions): Promise<number>;
  delete(keyOrKeys: string | string[], options?: PutOptions): Promise<boolean | number> {
    return settle(() =>
      Array.isArray(keyOrKeys)
        ? this.#kv.deleteMany(keyOrKeys.map(String), confirmed(options))
        : this.#kv.delete(String(keyOrKeys), confirmed(options)),
    );
  }

  list<T = unknown>(options?: ListOptions): Promise<Map<string, T>> {
    return settle(() => this.#kv.list(options ?? {}) as Map<string, T>);
  }

  /**
   * Deletes all key-value data atomically; for SQLite-backed classes also every table, view and
   * trigger the app created. The alarm goes too only under `delete_all_deletes_alarm`.
   */
  deleteAll(options?: PutOptions): Promise<void> {
    return settle(() => {
      this.#pipeline.write(confirmed(options), () => {
        if (this.storageKind === "sqlite") this.#dropUserSchema();
        this.#stmts.kvDeleteAll.run();
        if (this.#opts.deleteAllDeletesAlarm) {
          this.#stmts.alarmDelete.run();
          this.#alarm.touched = true;
        }
      });
    });
  }

  transaction<T>(closure: (txn: DurableObjectTransaction) => T | Promise<T>, _options?: object): Promise<T> {
    try {
      return this.#txns.run(this, closure);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** SQLite-backed classes only: runs `fn` atomically; if it throws, its writes are rolled back. */
  transactionSync<T>(fn: () => T): T {
    this.#requireSqlite("transactionSync()");
    return this.#txns.runSync(fn);
  }

  /** Resolves once every write so far, `allowUnconfirmed` ones included, is durable. */
  sync(): Promise<void> {
    return this.#pipeline.sync();
  }

  getAlarm(_options?: GetOptions): Promise<number | null> {
    return settle(() => this.#alarm.get());
  }

  setAlarm(scheduledTime: Date | number, options?: PutOptions): Promise<void> {
    return settle(() => this.#alarm.set(scheduledTime, confirmed(options)));
  }

  deleteAlarm(options?: PutOptions): Promise<void> {
    return settle(() => this.#alarm.delete(confirmed(options)));
  }

  get kv(): SyncKvStorage {
    this.#requireSqlite("kv");
    return (this.#syncKv ??= new SyncKvStorage(this.#kv));
  }

  get sql(): SqlStorage {
    this.#requireSqlite("sql");
    return (this.#sql ??= new SqlStorage(this.#db, this.#stmts, this.#pipeline));
  }

  getCurrentBookmark(): Promise<string> {
    return Promise.reject(new NotSupportedError("Point-in-time recovery (ctx.storage.getCurrentBookmark)"));
  }

  getBookmarkForTime(_timestamp: number | Date): Promise<string> {
    return Promise.reject(new NotSupportedError("Point-in-time recovery (ctx.storage.getBookmarkForTime)"));
  }

  onNextSessionRestoreBookmark(_bookmark: string): Promise<string> {
    return Promise.reject(new NotSupportedError("Point-in-time recovery (ctx.storage.onNextSessionRestoreBookmark)"));
  }

  // ---- Host-facing members (the runtime, not user code) -----------------------------------------

  /** The output gate: resolves when every confirmed write made before the call is durable. */
  whenDurable(): Promise<void> {
    return this.#pipeline.whenDurable();
  }

  /** The error that broke this storage (a failed commit), or null. Every later call throws it. */
  get broken(): Error | null {
    return this.#pipeline.broken;
  }

  /** Commits what is pending, checkpoints (TRUNCATE) and closes the file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#pipeline.close();
    } finally {
      this.#db.close();
    }
  }

  /** Rolls back the writes not committed yet, then closes (`ctx.abort()`). Idempotent. */
  abandon(cause: unknown): void {
    if (this.#closed) return;
    this.#pipeline.abandon(cause);
    this.close();
  }

  /** Counters for tests and benchmarks. */
  get stats(): { commits: number; checkpoints: number; fsyncs: number } {
    return { ...this.#pipeline.stats, fsyncs: this.#pipeline.fsyncs };
  }

  /** The raw better-sqlite3 connection, for Ledge internals and tests only (see internal.ts). */
  get [kDatabase](): Db {
    return this.#db;
  }

  // ---- Internals --------------------------------------------------------------------------------

  #afterCommit(): void {
    if (!this.#alarm.touched) return;
    this.#alarm.touched = false;
    const now = this.#alarm.read();
    if (now === this.#committedAlarm) return;
    this.#committedAlarm = now;
    this.#opts.onAlarmChange?.(now);
  }

  #requireSqlite(member: string): void {
    if (this.storageKind === "sqlite") return;
    throw new LedgeError(
      "LEDGE_STORAGE_NOT_SQLITE",
      `ctx.storage.${member} is only available to SQLite-backed Durable Object classes: declare the ` +
        'class in "new_sqlite_classes" instead of "new_classes" in the migrations of your wrangler ' +
        "config (an already-deployed class cannot be converted while keeping its data).",
    );
  }

  /** Drops what the app created with SQL, one object at a time (the query lists the next one). */
  #dropUserSchema(): void {
    // Dropping a parent table before its children would trip immediate foreign key checks; by
    // the end of the transaction no table is left, so deferred checks pass.
    this.#db.pragma("defer_foreign_keys = ON");
    for (;;) {
      const next = this.#stmts.firstUserSchemaObject.get() as { type: string; name: string } | undefined;
      if (next === undefined) break;
      this.#db.exec(`DROP ${next.type.toUpperCase()} IF EXISTS ${quoteIdentifier(next.name)}`);
    }
    if (this.#stmts.hasSequenceTable.get() !== undefined) this.#db.exec("DELETE FROM sqlite_sequence");
  }
}

/** @example const storage = openObjectStorage({ dbPath: "/var/ledge/do/ab12.sqlite", storageKind: "sqlite", deleteAllDeletesAlarm: true }) */
export function openObjectStorage(opts: ObjectStorageOptions): ObjectStorage {
  return new ObjectStorage(opts);
}

function confirmed(options: PutOptions | undefined): boolean {
  return !(options !== null && typeof options === "object" && options.allowUnconfirmed === true);
}

/** Runs synchronous work and hands its outcome back as an already-settled promise. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}
