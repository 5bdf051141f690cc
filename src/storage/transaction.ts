/**
 * Explicit transactions, as savepoints inside the turn's implicit transaction.
 *
 * `transactionSync(fn)` is a savepoint around a synchronous callback. `transaction(closure)` is a
 * savepoint that may stay open across awaits of other I/O; while any is open the commit pipeline
 * holds the flush, so its writes never commit half-done. The runtime must not deliver other
 * events to the object meanwhile (Cloudflare runs it like blockConcurrencyWhile), or their writes
 * would join the transaction and share its fate.
 *
 * Savepoints form a stack, but two `transaction()` calls started side by side (say, under
 * `Promise.all`) can finish in either order. A frame that finishes while a later one is still above
 * it waits for that one to be popped before releasing its own savepoint, so the stack is always
 * unwound from the top: the later transaction then behaves as nested in the earlier one.
 */
import type { CommitPipeline } from "./commit.js";
import type { Db } from "./database.js";
import type { ListOptions } from "./kv.js";

class Frame {
  readonly name: string;
  rolledBack = false;
  /** An enclosing frame rolled back, which discarded this frame's savepoint. */
  cancelled = false;
  finished = false;
  readonly popped: Promise<void>;
  resolvePopped!: () => void;

  constructor(name: string) {
    this.name = name;
    this.popped = new Promise((resolve) => (this.resolvePopped = resolve));
  }
}

/** The storage methods a transaction object forwards to. */
export interface TransactionTarget {
  get(keyOrKeys: string | string[], options?: object): Promise<unknown>;
  put(keyOrEntries: string | Record<string, unknown>, valueOrOptions?: unknown, options?: object): Promise<void>;
  delete(keyOrKeys: string | string[], options?: object): Promise<boolean | number>;
  list(options?: ListOptions): Promise<Map<string, unknown>>;
  getAlarm(options?: object): Promise<number | null>;
  setAlarm(scheduledTime: Date | number, options?: object): Promise<void>;
  deleteAlarm(options?: object): Promise<void>;
}

export class TransactionRunner {
  readonly #db: Db;
  readonly #pipeline: CommitPipeline;
  readonly #frames: Frame[] = [];
  #counter = 0;
  #syncDepth = 0;

  constructor(db: Db, pipeline: CommitPipeline) {
    this.#db = db;
    this.#pipeline = pipeline;
  }

  runSync<T>(fn: () => T): T {
    this.#pipeline.assertUsable();
    // The savepoint must sit inside the implicit transaction: on its own it would start (and its
    // RELEASE would commit) a transaction of its own.
    this.#pipeline.ensureTransaction();
    const name = `_cf_sync_${this.#syncDepth++}`;
    try {
      this.#pipeline.guard(() => this.#db.exec(`SAVEPOINT ${name}`));
      let result: T;
      try {
        result = fn();
      } catch (err) {
        if (this.#usable()) {
          this.#pipeline.guard(() => this.#db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`));
        }
        throw err;
      }
      this.#pipeline.guard(() => this.#db.exec(`RELEASE ${name}`));
      return result;
    } finally {
      this.#syncDepth--;
    }
  }

  async run<T>(target: TransactionTarget, closure: (txn: DurableObjectTransaction) => T | Promise<T>): Promise<T> {
    this.#pipeline.assertUsable();
    this.#pipeline.ensureTransaction();
    if (this.#frames.length === 0) this.#pipeline.holdFlush();
    const frame = new Frame(`_cf_txn_${++this.#counter}`);
    this.#frames.push(frame);
    try {
      this.#pipeline.guard(() => this.#db.exec(`SAVEPOINT ${frame.name}`));
    } catch (err) {
      this.#pop(frame);
      throw err;
    }
    let value: T | undefined;
    let failure: unknown;
    let failed = false;
    try {
      value = await closure(new DurableObjectTransaction(target, frame, this));
    } catch (err) {
      failed = true;
      failure = err;
    }
    frame.finished = true;
    while (this.#frames[this.#frames.length - 1] !== frame) {
      await this.#frames[this.#frames.length - 1]!.popped;
    }
    try {
      if (!frame.cancelled && this.#usable()) {
        const undo = failed && !frame.rolledBack ? `ROLLBACK TO ${frame.name}; ` : "";
        this.#pipeline.guard(() => this.#db.exec(`${undo}RELEASE ${frame.name}`));
      }
    } finally {
      this.#pop(frame);
    }
    if (failed) throw failure;
    return value as T;
  }

  /** `txn.rollback()`: undo the frame's writes now; its savepoint is released when it finishes. */
  rollback(frame: Frame): void {
    if (frame.rolledBack) return;
    this.#pipeline.assertUsable();
    if (!frame.cancelled) {
      this.#pipeline.guard(() => this.#db.exec(`ROLLBACK TO ${frame.name}`));
      // ROLLBACK TO also discards every savepoint opened after this one.
      for (let i = this.#frames.indexOf(frame) + 1; i < this.#frames.length; i++) this.#frames[i]!.cancelled = true;
    }
    frame.rolledBack = true;
  }

  #pop(frame: Frame): void {
    this.#frames.pop();
    frame.resolvePopped();
    if (this.#frames.length === 0) this.#pipeline.releaseFlush();
  }

  #usable(): boolean {
    return this.#pipeline.broken === null && this.#db.inTransaction;
  }
}

/**
 * The `txn` handed to a `transaction()` closure. Its operations are the storage's own (on SQLite
 * everything issued meanwhile joins the transaction anyway); after `rollback()`, or once the
 * closure has finished, they reject.
 */
export class DurableObjectTransaction {
  readonly #target: TransactionTarget;
  readonly #frame: Frame;
  readonly #runner: TransactionRunner;

  constructor(target: TransactionTarget, frame: Frame, runner: TransactionRunner) {
    this.#target = target;
    this.#frame = frame;
    this.#runner = runner;
  }

  get(keyOrKeys: string | string[], options?: object): Promise<unknown> {
    return this.#forward("get", () => this.#target.get(keyOrKeys, options));
  }

  put(keyOrEntries: string | Record<string, unknown>, valueOrOptions?: unknown, options?: object): Promise<void> {
    return this.#forward("put", () => this.#target.put(keyOrEntries, valueOrOptions, options));
  }

  delete(keyOrKeys: string | string[], options?: object): Promise<boolean | number> {
    return this.#forward("delete", () => this.#target.delete(keyOrKeys, options));
  }

  list(options?: ListOptions): Promise<Map<string, unknown>> {
    return this.#forward("list", () => this.#target.list(options));
  }

  getAlarm(options?: object): Promise<number | null> {
    return this.#forward("getAlarm", () => this.#target.getAlarm(options));
  }

  setAlarm(scheduledTime: Date | number, options?: object): Promise<void> {
    return this.#forward("setAlarm", () => this.#target.setAlarm(scheduledTime, options));
  }

  deleteAlarm(options?: object): Promise<void> {
    return this.#forward("deleteAlarm", () => this.#target.deleteAlarm(options));
  }

  deleteAll(): never {
    throw new Error("Cannot call deleteAll() within a transaction");
  }

  /** Undoes everything the transaction wrote; the closure's later storage calls on `txn` reject. */
  rollback(): void {
    if (this.#frame.finished) throw new Error("Cannot roll back a transaction that has already completed.");
    this.#runner.rollback(this.#frame);
  }

  #forward<T>(method: string, call: () => Promise<T>): Promise<T> {
    if (this.#frame.rolledBack) {
      return Promise.reject(new Error(`Cannot call ${method}() on a transaction after rollback().`));
    }
    if (this.#frame.finished) {
      return Promise.reject(new Error(`Cannot call ${method}() on a transaction that has already completed.`));
    }
    return call();
  }
}
