/**
 * Start-up (issue #2): process start to first successful response of `ledge serve`, and the time
 * to start a new app isolate in a running node, seen as a `ledge dev` reload: from writing the
 * Worker file until the new code answers (that includes fs.watch and the CLI's 60 ms debounce),
 * beside the CLI's own "Reloaded <name> in N ms" (config, esbuild and isolate start).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, request, sleep, waitFor200 } from "../lib/net.mjs";
import { HELLO_WORKER, writeProject, wranglerToml } from "../lib/project.mjs";
import { LEDGE_BIN, REPO, startLedge } from "../lib/servers.mjs";
import { capture, stop, track } from "../lib/procs.mjs";
import { median, round } from "../lib/stats.mjs";
import { ms } from "../lib/report.mjs";
import { orSkip } from "../lib/measure.mjs";

export const TARGETS = { startMs: 150 };
const REPEATS = 5;

export default {
  key: "startup",
  title: "Start-up and reload (issue #2)",
  async run(ctx) {
    // A first start bundles with esbuild; later starts of the same project may reuse the build
    // (.ledge/build), so both are measured: fresh project directories, then one directory again.
    const freshDir = () => writeProject("start", wranglerToml("hello"), { "src/index.js": HELLO_WORKER });
    ctx.progress(`process start to first response, first start ×${REPEATS}`);
    const start = await orSkip(() => firstResponse(freshDir));
    const again = freshDir();
    ctx.progress(`process start to first response, restart ×${REPEATS}`);
    const restart = await orSkip(() => firstResponse(() => again));
    ctx.progress(`dev reload ×${REPEATS}`);
    const reload = await orSkip(() => reloads());
    const rows = [];
    for (const [label, r] of [["first start", start], ["restart", restart]]) {
      const scenario = `process start → first 200, ${label}`;
      if (r.skipped) rows.push({ scenario, skipped: r.skipped });
      else {
        rows.push({
          scenario,
          value: ms(r.medianMs, 0),
          target: `< ${TARGETS.startMs} ms`,
          met: r.medianMs < TARGETS.startMs,
          note: `median of ${REPEATS}; runs: ${r.runsMs.map((x) => x.toFixed(0)).join(", ")} ms`,
        });
      }
    }
    if (reload.skipped) rows.push({ scenario: "new isolate on reload", skipped: reload.skipped });
    else {
      rows.push({
        scenario: "dev reload: file write → new code answers",
        value: ms(reload.medianMs, 0),
        note: `runs: ${reload.runsMs.map((x) => x.toFixed(0)).join(", ")} ms (includes fs.watch and the 60 ms debounce)`,
      });
      rows.push({
        scenario: "dev reload as printed (\"Reloaded … in N ms\")",
        value: ms(reload.reportedMedianMs, 0),
        note: "config + esbuild + new isolates evaluate the bundle",
      });
    }
    return { figures: { processStartToFirstResponse: start, processRestartToFirstResponse: restart, devReload: reload }, rows };
  },
};

/**
 * Spawns `ledge serve` on `projectDir()`, polls with fresh connections every ~1 ms until a 200,
 * stops it; median of the runs.
 */
async function firstResponse(projectDir) {
  const runs = [];
  for (let i = 0; i < REPEATS; i++) {
    const dir = projectDir();
    const port = await freePort();
    const t0 = performance.now();
    const child = track(process.execPath, [LEDGE_BIN, "serve", dir, "--port", String(port), "--no-access-log"], { cwd: REPO });
    const err = capture(child.stderr);
    capture(child.stdout);
    try {
      const alive = () => child.exitCode === null && child.signalCode === null;
      const { at } = await waitFor200(`http://127.0.0.1:${port}/`, { timeoutMs: 20_000, intervalMs: 1, isAlive: alive });
      runs.push(at - t0);
    } catch (e) {
      throw new Error(`${e.message}${err.text ? ` — ${err.text.trim().split("\n").pop()}` : ""}`);
    } finally {
      await stop(child);
    }
  }
  return { medianMs: round(median(runs), 1), runsMs: runs.map((x) => round(x, 1)) };
}

/** Runs `ledge dev` on a copy of hello world and rewrites its Worker REPEATS times. */
async function reloads() {
  const dir = writeProject("reload", wranglerToml("reload"), { "src/index.js": HELLO_WORKER });
  const server = await startLedge(dir, { mode: "dev" });
  const file = join(dir, "src", "index.js");
  const runs = [];
  try {
    // Let the node refill its spare isolate, as a long-running node would have.
    await sleep(500);
    for (let i = 1; i <= REPEATS; i++) {
      const marker = `version ${i}`;
      const t0 = performance.now();
      writeFileSync(file, `export default { fetch() { return new Response(${JSON.stringify(marker)}) } }\n`);
      const { at } = await waitFor200(server.url + "/", { timeoutMs: 15_000, intervalMs: 2, accept: (b) => b === marker, isAlive: () => server.alive });
      runs.push(at - t0);
      // Let the old generation drain and the spare refill before the next change.
      await sleep(600);
      await request(server.url + "/");
    }
  } finally {
    await server.stop();
  }
  const reported = [...server.output().matchAll(/Reloaded \S+ in (\d+) ms/g)].map((m) => Number(m[1]));
  return {
    medianMs: round(median(runs), 1),
    runsMs: runs.map((x) => round(x, 1)),
    reportedMedianMs: median(reported),
    reportedMs: reported,
  };
}
