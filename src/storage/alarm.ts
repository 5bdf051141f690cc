/**
 * The object's single alarm, kept in `_cf_METADATA`. Setting or deleting it is a write like any
 * other: it joins the turn's batch and holds the output gate. The host learns of a change only
 * after the COMMIT that made it (ObjectStorage's `onAlarmChange`), so an alarm is never scheduled
 * from a write that was rolled back.
 */
import { types } from "node:util";
import type { CommitPipeline } from "./commit.js";
import type { Statements } from "./database.js";

export class AlarmOps {
  readonly #stmts: Statements;
  readonly #pipeline: CommitPipeline;
  readonly #clock: () => number;
  /** An alarm write happened in the open batch; checked after its COMMIT. */
  touched = false;

  constructor(stmts: Statements, pipeline: CommitPipeline, clock: () => number) {
    this.#stmts = stmts;
    this.#pipeline = pipeline;
    this.#clock = clock;
  }

  /** Scheduled time in ms since the epoch, or null; sees the turn's uncommitted changes. */
  get(): number | null {
    this.#pipeline.assertUsable();
    return this.read();
  }

  /** Reads without the usability check, for the host after a commit. */
  read(): number | null {
    const value = this.#stmts.alarmGet.get() as number | bigint | undefined;
    return value === undefined ? null : Number(value);
  }

  set(scheduledTime: Date | number, confirmed: boolean): void {
    this.#pipeline.assertUsable();
    // A Date made in another realm (a vm context) fails `instanceof`, so ask the value itself.
    const ms = isDate(scheduledTime) ? scheduledTime.getTime() : scheduledTime;
    if (typeof ms !== "number") {
      throw new TypeError("setAlarm() expects a Date or a number of milliseconds since the epoch.");
    }
    if (!(ms > 0)) throw new TypeError("setAlarm() cannot be called with an alarm time <= 0");
    // Like Cloudflare, a time in the past means "as soon as possible" and is stored as now, so
    // getAlarm() reports when it will actually run.
    const at = Math.max(Math.floor(ms), Math.floor(this.#clock()));
    this.#pipeline.write(confirmed, () => this.#stmts.alarmSet.run(at));
    this.touched = true;
  }

  delete(confirmed: boolean): void {
    this.#pipeline.assertUsable();
    this.#pipeline.write(confirmed, () => this.#stmts.alarmDelete.run());
    this.touched = true;
  }
}

function isDate(value: unknown): value is Date {
  return types.isDate(value);
}
