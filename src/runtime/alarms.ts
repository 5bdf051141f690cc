/**
 * The node's alarm clock for Durable Objects: timers only. The isolate holding an object owns its
 * alarm (src/objects/alarms.ts): it writes each committed `setAlarm` / `deleteAlarm` to the node's
 * alarm list and tells this clock. At start the clock arms every alarm in the list, so alarms set
 * before a restart fire after it (overdue ones at once). A failed `alarm()` is retried with
 * exponential backoff (2 s, 4 s, 8 s, …) up to 6 times, as on Cloudflare; after the last retry the
 * object's isolate drops the alarm and this clock forgets it.
 */
import { ALARM_MAX_RETRIES, ALARM_RETRY_BASE_MS, objectKey, readAlarmIndex, type ObjectAddress } from "../objects/index.js";

export interface AlarmRunner {
  /** Runs the alarm in the object; resolves with whether the handler succeeded. */
  runAlarm(target: ObjectAddress, scheduledTime: number, retryCount: number): Promise<boolean>;
}

interface Scheduled {
  target: ObjectAddress;
  time: number;
  retryCount: number;
  timer: NodeJS.Timeout | null;
  running: boolean;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class AlarmScheduler {
  readonly #persistDir: string;
  readonly #alarms = new Map<string, Scheduled>();
  #runner: AlarmRunner | null = null;
  readonly #clock: () => number;
  readonly #retryBaseMs: number;

  constructor(persistDir: string, opts: { clock?: () => number; retryBaseMs?: number } = {}) {
    this.#persistDir = persistDir;
    this.#clock = opts.clock ?? Date.now;
    this.#retryBaseMs = opts.retryBaseMs ?? ALARM_RETRY_BASE_MS;
  }

  /** Starts firing: loads every stored alarm (including overdue ones from before a restart). */
  start(runner: AlarmRunner): void {
    this.#runner = runner;
    for (const row of readAlarmIndex(this.#persistDir)) {
      const target: ObjectAddress = { app: row.app, className: row.class, id: row.id, name: row.name ?? undefined };
      this.#arm(target, row.time, 0);
    }
  }

  /** An isolate committed a change of an object's alarm (and already wrote it to the list). */
  set(target: ObjectAddress, time: number | null): void {
    const key = objectKey(target);
    const cur = this.#alarms.get(key);
    if (time === null) {
      if (cur && !cur.running) this.#disarm(key);
      else if (cur) cur.time = -1;
      return;
    }
    if (cur?.running) {
      // The handler is running; its completion re-arms from the stored time.
      cur.time = time;
      cur.retryCount = 0;
      return;
    }
    this.#arm(target, time, 0);
  }

  #arm(target: ObjectAddress, time: number, retryCount: number, delayMs?: number): void {
    const key = objectKey(target);
    this.#disarm(key);
    const s: Scheduled = { target, time, retryCount, timer: null, running: false };
    this.#alarms.set(key, s);
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, delayMs ?? time - this.#clock()));
    s.timer = setTimeout(() => void this.#fire(key, s), wait);
    s.timer.unref();
  }

  #disarm(key: string): void {
    const s = this.#alarms.get(key);
    if (s?.timer) clearTimeout(s.timer);
    this.#alarms.delete(key);
  }

  async #fire(key: string, s: Scheduled): Promise<void> {
    if (this.#alarms.get(key) !== s || !this.#runner) return;
    if (s.time - this.#clock() > 50) {
      // Timers longer than ~24.8 days are clamped; re-arm until the real time.
      this.#arm(s.target, s.time, s.retryCount);
      return;
    }
    s.timer = null;
    s.running = true;
    const firedTime = s.time;
    let ok = false;
    try {
      ok = await this.#runner.runAlarm(s.target, firedTime, s.retryCount);
    } catch {
      ok = false;
    }
    s.running = false;
    if (this.#alarms.get(key) !== s) return;
    if (s.time === -1) return this.#disarm(key);
    if (s.time !== firedTime) return this.#arm(s.target, s.time, 0);
    if (ok) {
      // The object cleared its alarm in storage (reported through set(null)); nothing to do.
      this.#disarm(key);
      return;
    }
    if (s.retryCount >= ALARM_MAX_RETRIES) {
      this.#disarm(key);
      return;
    }
    const retry = s.retryCount + 1;
    this.#arm(s.target, firedTime, retry, this.#retryBaseMs * 2 ** (retry - 1));
  }

  close(): void {
    for (const key of [...this.#alarms.keys()]) this.#disarm(key);
  }
}
