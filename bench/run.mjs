#!/usr/bin/env node
/**
 * `npm run bench`: Ledge's benchmarks, each figure a ratio to a plain `node:http` hello world
 * measured in the same run (the machine's yardstick). Load comes from wrk, 1 thread and 50
 * connections, so the load generator takes one core and the server the other on a 2-core machine.
 *
 *   node bench/run.mjs [--duration S] [--rounds N] [--warmup S] [--only hello,startup,...]
 *
 * Progress goes to stderr; the table and then one JSON object with every figure go to stdout; the
 * JSON is also written to bench/results/latest.json. Each section is a module under
 * bench/sections/ exporting { key, title, run(ctx) → { figures, rows } }; add one to SECTIONS.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cleanupAll, installCleanupHandlers } from "./lib/procs.mjs";
import { renderTable } from "./lib/report.mjs";
import { WRK, wrkAvailable } from "./lib/wrk.mjs";
import hello from "./sections/hello.mjs";
import startup from "./sections/startup.mjs";
import objects from "./sections/objects.mjs";
import websocket from "./sections/websocket.mjs";
import kv from "./sections/kv.mjs";
import cache from "./sections/cache.mjs";

/** In run order. `hello` comes first: it measures the yardstick the others are divided by. */
const SECTIONS = [hello, startup, objects, websocket, kv, cache];

const here = dirname(fileURLToPath(import.meta.url));

const HELP = `Usage: npm run bench -- [options]   (or: node bench/run.mjs [options])

Options:
  --duration S   Seconds of load per measurement (default 10, 1..600)
  --rounds N     Measurements per figure; the median is reported (default 3, 1..20)
  --warmup S     Seconds of unmeasured load before each scenario (default 1, 0..60)
  --only LIST    Comma-separated sections to run: ${SECTIONS.map((s) => s.key).join(", ")}
                 (hello always runs: it measures the yardstick)
  -h, --help     This text
`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string", default: "10" },
      rounds: { type: "string", default: "3" },
      warmup: { type: "string", default: "1" },
      only: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const int = (name, raw, min, max) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      process.stderr.write(`bench: --${name} must be a whole number between ${min} and ${max}, not "${raw}"\n`);
      process.exit(1);
    }
    return n;
  };
  const only = values.only ? new Set(["hello", ...values.only.split(",").map((s) => s.trim())]) : null;
  for (const k of only ?? []) {
    if (!SECTIONS.some((s) => s.key === k)) {
      process.stderr.write(`bench: unknown section "${k}" in --only (known: ${SECTIONS.map((s) => s.key).join(", ")})\n`);
      process.exit(1);
    }
  }
  return {
    durationS: int("duration", values.duration, 1, 600),
    rounds: int("rounds", values.rounds, 1, 20),
    warmupS: int("warmup", values.warmup, 0, 60),
    only,
  };
}

function meta(opts) {
  let commit = null;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: here, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    // Not a git checkout; the figure is still useful without it.
  }
  return {
    date: new Date().toISOString(),
    commit,
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? null,
    memoryMb: Math.round(totalmem() / 2 ** 20),
    // Other work on the machine skews every figure; a 1-minute load average near or above the
    // number of cores at the start means the run shared the CPU.
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    load: `wrk -t1 -c50 -d${opts.durationS}s, ${opts.rounds} round(s), ${opts.warmupS}s warm-up, medians`,
    durationS: opts.durationS,
    rounds: opts.rounds,
    warmupS: opts.warmupS,
  };
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (!wrkAvailable()) {
    process.stderr.write(`bench: wrk is not installed (expected at ${WRK}).\nInstall it with:  sudo apt-get install -y wrk\n`);
    process.exit(1);
  }
  installCleanupHandlers();
  const ctx = {
    opts,
    /** Set by the hello section: the node:http figures every ratio is relative to. */
    yardstick: null,
    /** Project directories a later section may reuse (e.g. the hello-world app). */
    projects: {},
    progress: () => {},
    ratio(rps) {
      return this.yardstick && rps ? Math.round((rps / this.yardstick.rps) * 1000) / 1000 : null;
    },
  };
  const started = Date.now();
  const results = { meta: meta(opts), sections: {} };
  const rendered = [];
  for (const section of SECTIONS) {
    if (opts.only && !opts.only.has(section.key)) continue;
    ctx.progress = (msg) => process.stderr.write(`[bench ${section.key}] ${msg}\n`);
    ctx.progress("starting");
    let out;
    try {
      out = await section.run(ctx);
    } catch (err) {
      const reason = String(err?.message ?? err).split("\n")[0];
      process.stderr.write(`[bench ${section.key}] failed: ${err?.stack ?? err}\n`);
      out = { figures: { skipped: reason }, rows: [{ scenario: section.title, skipped: reason }] };
    }
    results.sections[section.key] = out.figures;
    rendered.push({ title: section.title, rows: out.rows });
  }
  results.meta.elapsedS = Math.round((Date.now() - started) / 1000);
  results.meta.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);

  process.stdout.write(`\nLedge benchmarks — ${results.meta.load}; ratios are to node:http measured in this run\n`);
  const busy = results.meta.loadAverageAtStart[0];
  if (busy > 0.5) {
    process.stdout.write(`Note: the machine's load average was ${busy} when the run started (${results.meta.cpus} cores); other work skews the figures.\n`);
  }
  process.stdout.write("\n");
  process.stdout.write(renderTable(rendered) + "\n\n");
  process.stdout.write(JSON.stringify(results, null, 2) + "\n");
  const dir = join(here, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "latest.json"), JSON.stringify(results, null, 2) + "\n");
  process.stderr.write(`bench: wrote ${join(dir, "latest.json")} (${results.meta.elapsedS} s)\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
