/**
 * Background removal of expired KV entries, run by the main thread for the whole node. Reads already
 * hide expired keys (every query filters on `expiration`), so the purger only reclaims disk space;
 * it may run late or skip a tick without anyone noticing a stale value.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { clearInterval, setInterval } from "node:timers";
import { errorMessage } from "../shared/errors.js";
import { KvStore } from "./store.js";

export interface KvPurgerOptions {
  /** Time between passes, in ms. Default 60,000; at least 10. */
  intervalMs?: number;
  /** Current time in epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
  /** Called when one namespace file cannot be purged; the other files are still purged. Default: ignore. */
  onError?: (dbPath: string, err: unknown) => void;
}

export interface KvPurger {
  /** Runs one pass now over every namespace file and returns how many entries it removed. */
  purgeNow(): number;
  /** Stops the timer and closes the purger's connections. Safe to call twice. */
  stop(): void;
}

/**
 * Purges every `<persistDir>/kv/*.sqlite` every `intervalMs`. Connections are kept open between
 * passes (opening a file re-runs the schema and WAL setup), and new namespace files are picked up
 * on the next pass. The timer is unref'd so it never keeps the process alive on its own.
 * Example: `const purger = startKvPurger(".ledge/state", { intervalMs: 60_000 }); ...; purger.stop()`.
 */
export function startKvPurger(persistDir: string, opts: KvPurgerOptions = {}): KvPurger {
  const intervalMs = Math.max(10, opts.intervalMs ?? 60_000);
  const dir = join(persistDir, "kv");
  const stores = new Map<string, KvStore>();
  let stopped = false;

  function purgeNow(): number {
    if (stopped) return 0;
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith(".sqlite"));
    } catch (err) {
      // No namespace has been written yet: nothing to purge.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw err;
    }
    let removed = 0;
    for (const name of names) {
      const path = join(dir, name);
      try {
        let store = stores.get(path);
        if (store === undefined) {
          store = new KvStore(path, opts.clock ? { clock: opts.clock } : {});
          stores.set(path, store);
        }
        removed += store.purgeExpired();
      } catch (err) {
        // Drop the connection so the next pass reopens the file (it may have been replaced).
        stores.get(path)?.close();
        stores.delete(path);
        opts.onError?.(path, err);
      }
    }
    return removed;
  }

  const timer = setInterval(() => {
    try {
      purgeNow();
    } catch (err) {
      opts.onError?.(dir, new Error(`KV purge pass failed: ${errorMessage(err)}`, { cause: err }));
    }
  }, intervalMs);
  timer.unref();

  return {
    purgeNow,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      for (const store of stores.values()) store.close();
      stores.clear();
    },
  };
}
