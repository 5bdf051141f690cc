// Cloudflare numbers weekdays 1 = Sunday to 7 = Saturday and refuses 0; croner's default is
// 0 = Sunday, 1 = Monday. These are the examples of Cloudflare's cron trigger documentation, read
// with the options the scheduler and the config validation use.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cron } from "croner";
import { CLOUDFLARE_CRON_OPTIONS } from "../../src/cron/index.js";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
// A Thursday.
const FROM = new Date("2026-11-26T00:00:00Z");

function next(expr: string, n: number): string[] {
  const job = new Cron(expr, { ...CLOUDFLARE_CRON_OPTIONS, paused: true });
  try {
    return job.nextRuns(n, FROM).map((d) => `${DAYS[d.getUTCDay()]} ${d.toISOString().slice(0, 16)}`);
  } finally {
    job.stop();
  }
}

test("1 and SUN are Sunday", () => {
  assert.deepEqual(next("0 17 * * 1", 1), ["Sun 2026-11-29T17:00"]);
  assert.deepEqual(next("0 17 * * sun", 1), ["Sun 2026-11-29T17:00"]);
});

test("2-6 and mon-fri are the working days; 7 is Saturday", () => {
  const weekdays = ["Thu 2026-11-26T07:10", "Fri 2026-11-27T07:10", "Mon 2026-11-30T07:10", "Tue 2026-12-01T07:10", "Wed 2026-12-02T07:10"];
  assert.deepEqual(next("10 7 * * 2-6", 5), weekdays);
  assert.deepEqual(next("10 7 * * mon-fri", 5), weekdays);
  assert.deepEqual(next("0 0 * * 7", 1), ["Sat 2026-11-28T00:00"]);
});

test("6L and friL are the last Friday of the month", () => {
  assert.deepEqual(next("0 18 * * 6L", 2), ["Fri 2026-11-27T18:00", "Fri 2026-12-25T18:00"]);
  assert.deepEqual(next("0 18 * * friL", 2), ["Fri 2026-11-27T18:00", "Fri 2026-12-25T18:00"]);
});

test("0 is not a weekday", () => {
  assert.throws(() => new Cron("0 0 * * 0", { ...CLOUDFLARE_CRON_OPTIONS, paused: true }));
});

test("times are UTC, and a leading seconds field is honoured", () => {
  assert.deepEqual(next("30 15 10 * * *", 1), ["Thu 2026-11-26T10:15"]);
  const job = new Cron("30 15 10 * * *", { ...CLOUDFLARE_CRON_OPTIONS, paused: true });
  assert.equal(job.nextRun(FROM)?.toISOString(), "2026-11-26T10:15:30.000Z");
  job.stop();
});
