/**
 * The commit path of one object's storage: write coalescing, the output gate, and durability.
 *
 * Coalescing. The first write of a turn of the event loop opens an implicit transaction (BEGIN) and
 * schedules a flush with `setImmediate`. Every storage method runs synchronously and returns an
 * already-settled promise, so an object's code that only awaits its own storage keeps running in
 * microtasks of the same turn, and all of its writes land in that one transaction. The flush, a
 * macrotask, COMMITs them together: all or nothing. An explicit `transaction()` that awaits other
 * I/O holds the flush until it finishes (`holdFlush`/`releaseFlush`).
 *
 * Output gate. `whenDurable()` resolves once every batch holding a write made before the call has
 * reached the configured durability level. If a COMMIT (or a write that made SQLite abandon the
 * transaction) fails, the pipeline is broken: waiters reject with `broken`, every later call
 * throws it, and the runtime resets the object, so a response that depended on lost writes is
 * never released.
 *
 * Durability levels. The database runs in WAL mode with synchronous=NORMAL: a COMMIT writes the
 * batch's pages to the `-wal` file with write(2) and returns without any fsync.
 * - "normal": the gate opens right after COMMIT. The data is in the OS page cache, so it survives
 *   the process crashing or being killed with SIGKILL (the kernel still writes it out), but not a
 *   power loss or kernel crash. About ten times more commits per second than "full".
 * - "full" (default): after COMMIT the gate also waits for an `fdatasync` of the WAL, so the data
 *   survives power loss. The fdatasync runs on the thread pool and is shared: every commit that
 *   happens while one is in flight waits for the next one (group commit, see wal-syncer.ts), so a
 *   busy object pays one fsync per batch of commits, not per commit.
 * A later level will also wait for a JetStream acknowledgement of the replicated batch; that wait
 * belongs in `#afterCommit`, the single place where a committed batch becomes durable.
 *
 * Checkpoints. Automatic checkpoints are off. Once a batch is durable and no transaction is open,
 * a PASSIVE checkpoint copies the WAL into the database file when the WAL holds more than
 * CHECKPOINT_FRAMES pages; `close()` runs a TRUNCATE checkpoint. With synchronous=NORMAL SQLite
 * syncs the WAL before and the database after a checkpoint, so checkpointing never weakens the
 * guarantees above.
 */
import { setImmediate } from "node:timers";
import { LedgeError, errorMessage } from "../shared/errors.js";
import type { Db, Statements } from "./database.js";
import { WalIndexReader } from "./wal-index.js";
import { acquireWalSyncer, type WalSyncer } from "./wal-syncer.js";

export type Durability = "full" | "normal";

/** WAL pages that trigger a PASSIVE checkpoint (about 4 MB with 4 KiB pages). */
const CHECKPOINT_FRAMES = 1000;

export interface CommitPipelineOptions {
  db: Db;
  stmts: Statements;
  durability: Durability;
  /** The database file, or null for an in-memory database (nothing to sync or checkpoint). */
  dbPath: string | null;
  /** Called after every successful COMMIT, before durability; must not throw. */
  onCommitted: () => void;
}

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class CommitPipeline {
  readonly #db: Db;
  readonly #stmts: Statements;
  readonly #walIndex: WalIndexReader | null;
  readonly #syncer: WalSyncer | null;
  readonly #onCommitted: () => void;
  #broken: Error | null = null;
  #closed = false;
  #inTxn = false;
  #flushScheduled = false;
  #holds = 0;
  /** Batches are numbered; `#seq` is the open batch, or the last one if none is open. */
  #seq = 0;
  /** The last batch that holds a write the output gate must wait for (not `allowUnconfirmed`). */
  #gateSeq = 0;
  #durableSeq = 0;
  #waiters: Waiter[] = [];
  /** Counters for tests and benchmarks. */
  readonly stats = { commits: 0, checkpoints: 0 };

  constructor(opts: CommitPipelineOptions) {
    this.#db = opts.db;
    this.#stmts = opts.stmts;
    this.#onCommitted = opts.onCommitted;
    this.#walIndex = opts.dbPath === null ? null : new WalIndexReader(opts.dbPath);
    this.#syncer = opts.dbPath !== null && opts.durability === "full" ? acquireWalSyncer(`${opts.dbPath}-wal`) : null;
  }

  get broken(): Error | null {
    return this.#broken;
  }

  /** fdatasync calls made for this file so far (0 with durability "normal"). */
  get fsyncs(): number {
    return this.#syncer?.fsyncs ?? 0;
  }

  assertUsable(): void {
    if (this.#broken) throw this.#broken;
    if (this.#closed) {
      throw new LedgeError("LEDGE_STORAGE_CLOSED", "This Durable Object's storage is closed.", "system");
    }
  }

  /** Opens the turn's implicit transaction if none is open, and schedules its flush. */
  ensureTransaction(): void {
    if (this.#inTxn) return;
    this.#stmts.begin.run();
    this.#inTxn = true;
    this.#seq++;
    this.#scheduleFlush();
  }

  /** Runs one write inside the turn's transaction; `confirmed` writes hold the output gate. */
  write<T>(confirmed: boolean, fn: () => T): T {
    this.assertUsable();
    this.ensureTransaction();
    if (confirmed) this.#gateSeq = this.#seq;
    return this.guard(fn);
  }

  /**
   * Runs database work. Most failing statements roll back only themselves, but SQLITE_FULL,
   * I/O errors, `ON CONFLICT ROLLBACK` and `RAISE(ROLLBACK)` make SQLite abandon the whole
   * transaction: the turn's earlier writes are then gone, so the storage must break rather than
   * carry on as if they had been kept.
   */
  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (this.#inTxn && !this.#db.inTransaction) {
        this.#inTxn = false;
        this.#fail(err);
      }
      throw err;
    }
  }

  /** An explicit `transaction()` is running: the flush waits until `releaseFlush`. */
  holdFlush(): void {
    this.#holds++;
  }

  releaseFlush(): void {
    this.#holds--;
    if (this.#holds === 0 && this.#inTxn) this.#scheduleFlush();
  }

  /** The output gate: every confirmed write made before this call is durable. */
  whenDurable(): Promise<void> {
    return this.#waitFor(this.#gateSeq);
  }

  /** Like `whenDurable`, but also waits for `allowUnconfirmed` writes (`storage.sync()`). */
  sync(): Promise<void> {
    return this.#waitFor(this.#seq);
  }

  #waitFor(target: number): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (this.#durableSeq >= target) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ target, resolve, reject }));
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.flush();
    });
  }

  /** COMMITs the open batch now, unless an explicit transaction holds it. */
  flush(): void {
    if (this.#broken || this.#closed || !this.#inTxn || this.#holds > 0) return;
    this.#commit();
  }

  #commit(): void {
    const seq = this.#seq;
    try {
      this.#stmts.commit.run();
    } catch (err) {
      this.#inTxn = false;
      this.#fail(err);
      return;
    }
    this.#inTxn = false;
    this.stats.commits++;
    try {
      this.#onCommitted();
    } catch {
      // The host's notification failing says nothing about the data, which is committed.
    }
    this.#afterCommit(seq);
  }

  /** The one place a committed batch becomes durable: add further waits (replication) here. */
  #afterCommit(seq: number): void {
    if (this.#syncer === null) {
      this.#markDurable(seq);
      return;
    }
    this.#syncer.sync().then(
      () => this.#markDurable(seq),
      (err: unknown) => this.#fail(err),
    );
  }

  #markDurable(seq: number): void {
    if (this.#broken || seq <= this.#durableSeq) return;
    this.#durableSeq = seq;
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.target <= seq) w.resolve();
      else still.push(w);
    }
    this.#waiters = still;
    this.#maybeCheckpoint();
  }

  #maybeCheckpoint(): void {
    if (this.#walIndex === null || this.#closed || this.#inTxn || this.#holds > 0) return;
    const frames = this.#walIndex.pendingFrames();
    if (frames === null || frames <= CHECKPOINT_FRAMES) return;
    try {
      this.#db.pragma("wal_checkpoint(PASSIVE)");
      this.stats.checkpoints++;
    } catch {
      // A checkpoint that cannot run now (another connection reading) is retried after the next
      // durable batch; the data is safe in the WAL meanwhile.
    }
  }

  #fail(cause: unknown): void {
    if (this.#broken) return;
    this.#broken = new LedgeError(
      "LEDGE_STORAGE_COMMIT_FAILED",
      `Durable Object storage failed to commit; the object must be reset: ${errorMessage(cause)}`,
      "system",
      { cause },
    );
    if (this.#db.open && this.#db.inTransaction) {
      try {
        this.#stmts.rollback.run();
      } catch {
        // Nothing more to undo: SQLite already dropped the transaction.
      }
    }
    for (const w of this.#waiters) w.reject(this.#broken);
    this.#waiters = [];
  }

  /**
   * `ctx.abort()`: the open batch is rolled back instead of committed, and the output gate's
   * waiters reject. Batches already committed are kept. The caller closes the pipeline next.
   */
  abandon(cause: unknown): void {
    if (this.#closed || !this.#inTxn) return;
    this.#inTxn = false;
    this.#fail(cause);
  }

  /**
   * Commits what is pending and checkpoints with TRUNCATE; the caller closes the database next.
   * An explicit transaction still running cannot complete any more, so its batch is rolled back.
   */
  close(): void {
    if (this.#closed) return;
    if (this.#inTxn && !this.#broken) {
      if (this.#holds > 0) {
        this.#inTxn = false;
        this.#fail(new Error("storage was closed while a transaction() was still running"));
      } else {
        this.#commit();
      }
    }
    this.#closed = true;
    if (this.#walIndex !== null && !this.#broken) {
      try {
        const [row] = this.#db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number; log: number; checkpointed: number }[];
        this.stats.checkpoints++;
        // A complete checkpoint synced the database file, so everything committed is durable.
        if (row && row.busy === 0 && row.log === row.checkpointed) this.#markDurable(this.#seq);
      } catch {
        // The pending fdatasync still makes the WAL durable; waiters resolve when it finishes.
      }
    }
    this.#walIndex?.close();
    this.#syncer?.release();
  }
}
