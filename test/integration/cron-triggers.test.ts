/**
 * Cron triggers through the real CLI: a six-field every-second expression (a Ledge extension;
 * Cloudflare's are five-field) fires by itself and the `scheduled` handler sees `controller.cron`
 * and `scheduledTime`; a run that throws is logged and later runs go on. The handler records every
 * run in KV, and the tests poll a Worker route that lists those records.
 *
 * Also the test route: `/__scheduled?cron=...` and `/cdn-cgi/handler/scheduled` run `scheduled` in
 * `dev` and with `serve --test-scheduled`; in plain `serve` they are ordinary requests that reach the
 * Worker's `fetch`, as with `wrangler dev` without `--test-scheduled`.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eventually, removeDir, runLedge, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

/**
 * Records each run under `run:<scheduledTime>`, or `fail:<scheduledTime>` and then throws when the
 * scheduled second is a multiple of 3 or the cron is "fail". `GET /runs` lists the records.
 */
const WORKER = String.raw`
export default {
  async scheduled(controller, env) {
    const record = {
      cron: controller.cron,
      scheduledTime: controller.scheduledTime,
      type: controller.type,
      noRetry: typeof controller.noRetry,
      ranAt: Date.now(),
    };
    const fails = controller.cron === "fail" || (controller.cron === "* * * * * *" && Math.floor(controller.scheduledTime / 1000) % 3 === 0);
    await env.KV.put((fails ? "fail:" : "run:") + controller.scheduledTime + ":" + controller.cron, JSON.stringify(record));
    if (fails) throw new Error("cron boom at " + controller.scheduledTime);
  },
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/runs") {
      const { keys } = await env.KV.list();
      const out = [];
      for (const k of keys) out.push({ key: k.name, ...(await env.KV.get(k.name, "json")) });
      return Response.json(out);
    }
    return new Response("fetch saw " + url.pathname + url.search);
  },
};
`;

function toml(name: string, crons: string[]): string {
  return [
    `name = "${name}"`,
    'main = "src/index.js"',
    'compatibility_date = "2026-11-01"',
    'kv_namespaces = [{ binding = "KV", id = "runs" }]',
    "[triggers]",
    `crons = [${crons.map((c) => JSON.stringify(c)).join(", ")}]`,
    "",
  ].join("\n");
}

interface Run {
  key: string;
  cron: string;
  scheduledTime: number;
  type: string;
  noRetry: string;
  ranAt: number;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) removeDir(d);
});

/** A project and its own state folder, served by `command` with `args`; stopped by the caller. */
async function serve(crons: string[], command: "serve" | "dev", args: string[] = []): Promise<RunningLedge> {
  const dir = writeProject({ "wrangler.toml": toml("cron-app", crons), "src/index.js": WORKER }, "ledge-cron-");
  const stateDir = mkdtempSync(join(tmpdir(), "ledge-cron-state-"));
  dirs.push(dir, stateDir);
  return startLedge(dir, { command, args: ["--persist-to", stateDir, "--no-access-log", ...args] });
}

async function runs(ledge: RunningLedge): Promise<Run[]> {
  const res = await fetch(`${ledge.url}/runs`);
  assert.equal(res.status, 200);
  return (await res.json()) as Run[];
}

describe("a six-field cron that fires every second", () => {
  let ledge: RunningLedge;
  before(async () => {
    // The second expression (midnight on 1 January) must not fire during the test.
    ledge = await serve(["* * * * * *", "0 0 1 1 *"], "serve");
  });
  after(async () => {
    await ledge?.kill();
  });

  test("runs by itself; the handler sees controller.cron, scheduledTime, type and noRetry", async () => {
    const ok = await eventually(
      async () => {
        const r = (await runs(ledge)).filter((x) => x.key.startsWith("run:"));
        return r.length >= 3 ? r : null;
      },
      "three successful runs of the every-second cron",
      15_000,
      200,
    );
    for (const run of ok) {
      assert.equal(run.cron, "* * * * * *");
      assert.equal(run.type, "scheduled");
      assert.equal(run.noRetry, "function");
      assert.equal(run.scheduledTime % 1000, 0, "scheduled on a whole second");
      assert.ok(run.ranAt - run.scheduledTime > -50 && run.ranAt - run.scheduledTime < 10_000, `ran ${run.ranAt - run.scheduledTime} ms after its time`);
    }
    const times = ok.map((r) => r.scheduledTime).sort((x, y) => x - y);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!, "each run has its own second");
    assert.ok(times.at(-1)! - times[0]! < 60_000);
  });

  test("a run that throws is logged, and later runs go on", async () => {
    const failed = await eventually(
      async () => (await runs(ledge)).find((x) => x.key.startsWith("fail:")),
      "a run whose second is a multiple of 3 (it throws)",
      15_000,
      200,
    );
    await ledge.waitFor(`scheduled() for "* * * * * *" failed: cron boom at ${failed.scheduledTime}`, 10_000);
    await eventually(
      async () => (await runs(ledge)).some((x) => x.key.startsWith("run:") && x.scheduledTime > failed.scheduledTime),
      "a successful run after the failed one",
      15_000,
      200,
    );
  });

  test("the five-field cron that is not due has not run", async () => {
    assert.deepEqual((await runs(ledge)).filter((x) => x.cron !== "* * * * * *"), []);
  });
});

describe("the /__scheduled test route", () => {
  test("in dev it runs scheduled() with the given cron and time, and reports failures", async () => {
    const ledge = await serve([], "dev");
    try {
      const before = Date.now();
      const res = await fetch(`${ledge.url}/__scheduled?cron=${encodeURIComponent("5 * * * *")}`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "Ran scheduled event\n");
      const [run] = await runs(ledge);
      assert.equal(run?.cron, "5 * * * *");
      assert.ok(run!.scheduledTime >= before && run!.scheduledTime <= Date.now(), "scheduledTime defaults to now");

      const viaCdnCgi = await fetch(`${ledge.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/10 * * * *")}&time=1700000000000`);
      assert.equal(viaCdnCgi.status, 200);
      await viaCdnCgi.body?.cancel();
      const timed = (await runs(ledge)).find((x) => x.cron === "*/10 * * * *");
      assert.equal(timed?.scheduledTime, 1_700_000_000_000);

      const failing = await fetch(`${ledge.url}/__scheduled?cron=fail`);
      assert.equal(failing.status, 500);
      assert.match(await failing.text(), /cron boom at/);
    } finally {
      await ledge.kill();
    }
  });

  test("in serve it is an ordinary request that reaches fetch()", async () => {
    const ledge = await serve([], "serve");
    try {
      const res = await fetch(`${ledge.url}/__scheduled?cron=${encodeURIComponent("5 * * * *")}`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "fetch saw /__scheduled?cron=5%20*%20*%20*%20*");
      const cdn = await fetch(`${ledge.url}/cdn-cgi/handler/scheduled?cron=x`);
      assert.equal(await cdn.text(), "fetch saw /cdn-cgi/handler/scheduled?cron=x");
      assert.deepEqual(await runs(ledge), [], "scheduled() did not run");
    } finally {
      await ledge.kill();
    }
  });

  test("serve --test-scheduled turns it on", async () => {
    const ledge = await serve([], "serve", ["--test-scheduled"]);
    try {
      const res = await fetch(`${ledge.url}/__scheduled?cron=${encodeURIComponent("0 12 * * MON")}`);
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.deepEqual((await runs(ledge)).map((r) => r.cron), ["0 12 * * MON"]);
    } finally {
      await ledge.kill();
    }
  });
});

test("a weekday of 0 is refused at start-up, as Cloudflare refuses it (its weekdays are 1 = Sunday to 7)", async () => {
  const dir = writeProject({ "wrangler.toml": toml("cron-bad", ["0 17 * * 1", "0 0 * * 0"]), "src/index.js": WORKER }, "ledge-cron-bad-");
  dirs.push(dir);
  const r = await runLedge(["serve", dir, "--port", "0", "--persist-to", join(dir, "state")]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /triggers\.crons\[1\]: cron "0 0 \* \* 0" is not a valid cron expression: the day of week must be 1-7 \(1 = Sunday\) or SUN-SAT/);
  assert.doesNotMatch(r.stderr, /crons\[0\]/, "1 (Sunday) is accepted");
});

test("in dev, writes to a --persist-to folder inside the project do not reload the app; an edit reloads it once and the cron goes on", async () => {
  const dir = writeProject({ "wrangler.toml": toml("cron-dev", ["* * * * * *"]), "src/index.js": WORKER }, "ledge-cron-dev-");
  dirs.push(dir);
  // Relative to the project (the CLI's working folder), so every KV write lands inside it.
  const ledge = await startLedge(dir, { command: "dev", args: ["--persist-to", "data", "--no-access-log"] });
  try {
    await eventually(async () => (await runs(ledge)).filter((r) => r.key.startsWith("run:")).length >= 2, "two runs written under data/", 15_000, 200);
    assert.doesNotMatch(ledge.output(), /Reloaded/, "KV writes under the project did not trigger a reload");

    const source = join(dir, "src", "index.js");
    writeFileSync(source, readFileSync(source, "utf8").replace('JSON.stringify(record)', 'JSON.stringify({ ...record, edited: true })'));
    await ledge.waitFor(/Reloaded cron-dev/, 10_000);
    await eventually(
      async () => (await runs(ledge)).some((r) => r.key.startsWith("run:") && (r as Run & { edited?: boolean }).edited === true),
      "a run of the edited code",
      15_000,
      200,
    );
    assert.equal(ledge.output().match(/Reloaded/g)?.length, 1, "one edit, one reload");
  } finally {
    await ledge.kill();
  }
});
