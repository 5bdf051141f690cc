/**
 * Durable Object alarms through the real CLI: `alarm()` runs at its time (never before it) with
 * `ctx.id.name` set, a second `setAlarm` replaces the first, `deleteAlarm` cancels, a handler may
 * set the next alarm while it runs, a throwing handler is retried with exponential backoff
 * (`--alarm-retry-base-ms 20` instead of 2 s) with `retryCount`/`isRetry`, at most 6 times, and
 * pending alarms survive a restart of the node, also after `kill -9`.
 *
 * Each run of `alarm()` is recorded in the object's own storage, so it is visible after restarts.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eventually } from "../helpers/ledge.js";
import { json, serveProject, wranglerToml, type DoProject } from "./do-helpers.js";

const WORKER = `
import { DurableObject } from "cloudflare:workers";

export class Timer extends DurableObject {
  async schedule(offsetMs, mode) {
    const s = this.ctx.storage;
    await s.put("mode", mode);
    const time = Date.now() + offsetMs;
    await s.setAlarm(time);
    return { time, stored: await s.getAlarm() };
  }
  async cancel() {
    await this.ctx.storage.deleteAlarm();
    return await this.ctx.storage.getAlarm();
  }
  async alarm(info) {
    const s = this.ctx.storage;
    const runs = (await s.get("runs")) ?? [];
    runs.push({ at: Date.now(), retryCount: info.retryCount, isRetry: info.isRetry, name: this.ctx.id.name ?? null, alarmDuringRun: await s.getAlarm() });
    await s.put("runs", runs);
    const [mode, arg] = (await s.get("mode")).split(":");
    if (mode === "fail" && runs.length <= Number(arg)) throw new Error("alarm failed on purpose");
    if (mode === "always-fail") throw new Error("alarm always fails");
    if (mode === "rearm" && runs.length < Number(arg)) await s.setAlarm(Date.now() + 30);
  }
  async report() {
    return { runs: (await this.ctx.storage.get("runs")) ?? [], alarm: await this.ctx.storage.getAlarm() };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const stub = env.TIMER.getByName(url.searchParams.get("name"));
    switch (url.pathname) {
      case "/schedule":
        return Response.json(await stub.schedule(Number(url.searchParams.get("in")), url.searchParams.get("mode") ?? "ok"));
      case "/cancel":
        return Response.json(await stub.cancel());
      case "/report":
        return Response.json(await stub.report());
    }
    return new Response("not found", { status: 404 });
  },
};
`;

interface Run {
  at: number;
  retryCount: number;
  isRetry: boolean;
  name: string | null;
  alarmDuringRun: number | null;
}

let p: DoProject;
const ARGS = ["--isolates", "2", "--alarm-retry-base-ms", "20"];

before(async () => {
  p = await serveProject({ "wrangler.toml": wranglerToml({ name: "alarms", classes: ["Timer"] }), "src/index.js": WORKER }, ARGS);
});

after(async () => {
  await p?.close();
});

async function schedule(name: string, inMs: number, mode = "ok"): Promise<number> {
  const r = await json(`${p.url}/schedule?name=${name}&in=${inMs}&mode=${mode}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  if (inMs > 0) assert.equal(r.body.stored, r.body.time, "getAlarm() returns the time just set");
  // A time that has passed (even by a millisecond) is stored as "now", as Cloudflare reports when
  // the alarm will really run.
  else assert.ok(r.body.stored >= r.body.time && r.body.stored <= Date.now(), `a past alarm is stored as now: ${JSON.stringify(r.body)}`);
  return r.body.time;
}

async function report(name: string): Promise<{ runs: Run[]; alarm: number | null }> {
  const r = await json(`${p.url}/report?name=${name}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

function runsReach(name: string, n: number, timeoutMs = 10_000): Promise<{ runs: Run[]; alarm: number | null }> {
  return eventually(async () => {
    const r = await report(name);
    return r.runs.length >= n ? r : null;
  }, `${n} run(s) of ${name}'s alarm`, timeoutMs);
}

describe("Durable Object alarms", () => {
  test("alarm() runs at its time, not before, with ctx.id.name; then getAlarm() is null", async () => {
    const time = await schedule("on-time", 300);
    const { runs, alarm } = await runsReach("on-time", 1);
    assert.equal(runs.length, 1);
    assert.ok(runs[0]!.at >= time, `ran ${runs[0]!.at - time} ms after its time`);
    assert.ok(runs[0]!.at - time < 1000, `ran ${runs[0]!.at - time} ms after its time`);
    assert.deepEqual({ ...runs[0], at: 0 }, { at: 0, retryCount: 0, isRetry: false, name: "on-time", alarmDuringRun: time });
    assert.equal(alarm, null);
  });

  test("an alarm in the past runs at once; a second setAlarm replaces the first", async () => {
    const past = await schedule("past", -60_000);
    const ran = await runsReach("past", 1);
    assert.ok(ran.runs[0]!.at >= past);

    // The first alarm is far enough ahead that the second request reaches the object before it is
    // due even on a slow, cold machine; which one runs then tells whether it was replaced.
    await schedule("replaced", 1500);
    const second = await schedule("replaced", 1800);
    const { runs } = await runsReach("replaced", 1);
    assert.ok(runs[0]!.at >= second, "it ran at the second time, not the first");
    // The one-shot "clock" object, scheduled after "replaced" ran, fires well after a leftover
    // first alarm could have.
    await schedule("replaced-clock", 200);
    await runsReach("replaced-clock", 1);
    assert.equal((await report("replaced")).runs.length, 1, "only one alarm per object");
  });

  test("deleteAlarm cancels a pending alarm", async () => {
    // Far enough ahead that the cancelling request arrives first even on a slow, cold machine.
    await schedule("cancelled", 1500);
    const cancel = await json(`${p.url}/cancel?name=cancelled`);
    assert.equal(cancel.body, null);
    await schedule("cancel-clock", 1800);
    await runsReach("cancel-clock", 1);
    assert.deepEqual(await report("cancelled"), { runs: [], alarm: null });
  });

  test("a handler may set the next alarm while it runs", async () => {
    await schedule("rearm", 0, "rearm:3");
    const { runs, alarm } = await runsReach("rearm", 3);
    assert.deepEqual(
      runs.map((r) => r.retryCount),
      [0, 0, 0],
    );
    assert.equal(alarm, null, "the last run set no further alarm");
  });

  test("a throwing handler is retried with exponential backoff, retryCount and isRetry", async () => {
    await schedule("retried", 0, "fail:3");
    const { runs, alarm } = await runsReach("retried", 4);
    assert.deepEqual(
      runs.map((r) => [r.retryCount, r.isRetry]),
      [
        [0, false],
        [1, true],
        [2, true],
        [3, true],
      ],
    );
    for (let i = 1; i < runs.length; i++) {
      const gap = runs[i]!.at - runs[i - 1]!.at;
      const backoff = 20 * 2 ** (i - 1);
      assert.ok(gap >= backoff - 2, `retry ${i} came ${gap} ms after the previous run; the backoff is ${backoff} ms`);
    }
    assert.equal(alarm, null, "the successful retry cleared the alarm");
  });

  test("a handler that always throws is retried 6 times, then the alarm is dropped", async () => {
    await schedule("hopeless", 0, "always-fail");
    const { runs } = await runsReach("hopeless", 7);
    assert.deepEqual(
      runs.map((r) => r.retryCount),
      [0, 1, 2, 3, 4, 5, 6],
    );
    // A seventh retry would come 20 * 2^6 = 1,280 ms after the last run; the clock fires later.
    const last = runs[6]!.at;
    await schedule("hopeless-clock", last + 1500 - Date.now());
    await runsReach("hopeless-clock", 1);
    const after = await report("hopeless");
    assert.equal(after.runs.length, 7, "no retry after the sixth");
    assert.equal(after.alarm, null, "getAlarm() no longer reports an alarm that will not run");
    // Nor does the node's alarm list: overdue alarms are armed at once on start, so a dropped one
    // that came back would run before a clock due 200 ms after the restart.
    await p.restart();
    await schedule("hopeless-restart-clock", 200);
    await runsReach("hopeless-restart-clock", 1);
    assert.equal((await report("hopeless")).runs.length, 7, "an alarm dropped after its last retry stays dropped after a restart");
  });

  test("a pending alarm survives a restart of the node", async () => {
    const time = await schedule("restarted", 1500);
    await p.restart();
    const { runs } = await runsReach("restarted", 1);
    assert.ok(runs[0]!.at >= time);
    assert.equal(runs[0]!.name, "restarted", "ctx.id.name in an alarm woken after a restart");
  });

  test("an alarm that fell due while the node was down (kill -9) runs once it is back", async () => {
    const time = await schedule("killed", 100);
    await p.restart({ kill: true });
    const { runs } = await runsReach("killed", 1);
    assert.ok(runs[0]!.at >= time);
    assert.equal(runs.length, 1);
  });
});
