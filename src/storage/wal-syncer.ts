/**
 * Group commit for one WAL file: `sync()` resolves once an `fdatasync` that started after the call
 * has finished. While one fdatasync is in flight, every later caller shares the next one, so a
 * single fsync covers all the commits that happened meanwhile, however many there were.
 *
 * There is one WalSyncer per file (see `acquireWalSyncer`) so that everything writing that file
 * batches into the same fsyncs. The syncs run on libuv's thread pool: the object's thread keeps
 * running other events while the disk works.
 */
import fs from "node:fs";
import path from "node:path";

export class WalSyncer {
  readonly walPath: string;
  /** fdatasync calls completed, for benchmarks and tests. */
  fsyncs = 0;
  #fd: number | null = null;
  #dirSynced = false;
  #inFlight: Promise<void> | null = null;
  #next: Promise<void> | null = null;
  #refs = 0;

  constructor(walPath: string) {
    this.walPath = walPath;
  }

  /** Resolves when everything written to the WAL before this call is on stable storage. */
  sync(): Promise<void> {
    if (this.#next) return this.#next;
    const current = this.#inFlight;
    if (current === null) return this.#start();
    // The running fdatasync may have started before the caller's write, so it cannot count.
    const next = current.then(noop, noop).then(() => {
      if (this.#next === next) this.#next = null;
      return this.#start();
    });
    this.#next = next;
    return next;
  }

  #start(): Promise<void> {
    const run = this.#run();
    this.#inFlight = run;
    const clear = (): void => {
      if (this.#inFlight === run) this.#inFlight = null;
    };
    run.then(clear, clear);
    return run;
  }

  async #run(): Promise<void> {
    // The WAL exists once the first transaction has committed, which is before anyone asks for a
    // sync; it is opened once and kept (a TRUNCATE checkpoint keeps the same inode).
    if (this.#fd === null) this.#fd = fs.openSync(this.walPath, "r");
    await callback((cb) => fs.fdatasync(this.#fd as number, cb));
    this.fsyncs++;
    if (!this.#dirSynced) {
      // A new file's directory entry is only durable once the directory itself is synced.
      const dirFd = fs.openSync(path.dirname(this.walPath), "r");
      try {
        await callback((cb) => fs.fsync(dirFd, cb));
      } finally {
        fs.closeSync(dirFd);
      }
      this.#dirSynced = true;
    }
  }

  /** Drops one user; the descriptor is closed once no sync is in flight on it. */
  release(): void {
    if (--this.#refs > 0) return;
    registry.delete(this.walPath);
    const pending = [this.#inFlight, this.#next].filter((p): p is Promise<void> => p !== null);
    void Promise.allSettled(pending).then(() => {
      if (this.#fd !== null) fs.closeSync(this.#fd);
      this.#fd = null;
    });
  }

  /** @internal used by acquireWalSyncer */
  retain(): this {
    this.#refs++;
    return this;
  }
}

const registry = new Map<string, WalSyncer>();

/** The shared syncer of a WAL file; call `release()` once per acquire. */
export function acquireWalSyncer(walPath: string): WalSyncer {
  const key = path.resolve(walPath);
  let syncer = registry.get(key);
  if (!syncer) {
    syncer = new WalSyncer(key);
    registry.set(key, syncer);
  }
  return syncer.retain();
}

function noop(): void {}

function callback(start: (cb: (err: NodeJS.ErrnoException | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => start((err) => (err ? reject(err) : resolve())));
}
