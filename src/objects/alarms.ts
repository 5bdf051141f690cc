/**
 * Durable Object alarms have one owner: the isolate that holds the object. It is the only writer of
 * the node's alarm list (alarm-index.ts), and it tells the host, whose clock (src/runtime/alarms.ts)
 * only keeps the timers, fires them and reads the list once at start.
 *
 * A failed `alarm()` is retried with exponential backoff (2 s, 4 s, 8 s, …) up to 6 times, as on
 * Cloudflare. The host waits between the tries; after the last one the object's isolate drops the
 * alarm, from the object's storage (manager.ts) and from the list (`failed` below), unless the
 * object set another alarm meanwhile. When the last try never reached the object (its app or its
 * isolate was not running), nothing drops it: the alarm stays listed and runs again after the next
 * start, which at-least-once delivery allows.
 */
import { AlarmIndex } from "./alarm-index.js";
import type { ObjectAddress } from "./address.js";

/** Retries after a failed `alarm()` before it is dropped (the first run is not a retry). */
export const ALARM_MAX_RETRIES = 6;
/** Wait before the first retry, in ms; each further retry waits twice as long. */
export const ALARM_RETRY_BASE_MS = 2000;

export class ObjectAlarms {
  readonly #index: AlarmIndex;
  readonly #notify: (target: ObjectAddress, time: number | null) => void;

  /** `notify` tells the host's clock about each committed change (src/runtime/alarms.ts). */
  constructor(persistDir: string, notify: (target: ObjectAddress, time: number | null) => void) {
    this.#index = new AlarmIndex(persistDir);
    this.#notify = notify;
  }

  /**
   * The object's storage committed a change of its alarm. Called in the commit's turn, so the
   * node's list never misses an alarm the object acknowledged.
   */
  committed(target: ObjectAddress, time: number | null): void {
    this.#index.set(target, time);
    this.#notify(target, time);
  }

  /** An alarm event failed; after the last retry, the alarm due at `scheduledTime` is dropped. */
  failed(target: ObjectAddress, scheduledTime: number, retryCount: number): void {
    if (retryCount >= ALARM_MAX_RETRIES) this.#index.removeIfAt(target, scheduledTime);
  }

  close(): void {
    this.#index.close();
  }
}
