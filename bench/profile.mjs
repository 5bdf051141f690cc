#!/usr/bin/env node
/**
 * Where does Ledge's time go on the hello-world path? Starts `ledge serve` under `node --cpu-prof`,
 * loads it with wrk (1 thread, 50 connections), stops it so V8 writes the profiles, and prints the
 * top self-time functions and files of the main thread (the front door) and of the isolates.
 *
 *   npm run build && node bench/profile.mjs [--duration S] [--top N] [--access-log] [--startup]
 *
 * --startup profiles start-up instead: from process start until the first 200, no load.
 *
 * Also writes bench/results/profile.json and keeps the raw .cpuprofile files in
 * bench/results/cpuprofile/ (open them in Chrome DevTools → Performance).
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { summariseProfile } from "./lib/cpuprofile.mjs";
import { cleanupAll, installCleanupHandlers, stop } from "./lib/procs.mjs";
import { HELLO_WORKER, writeProject, wranglerToml } from "./lib/project.mjs";
import { REPO, startLedge } from "./lib/servers.mjs";
import { sleep } from "./lib/net.mjs";
import { runWrk, WRK, wrkAvailable } from "./lib/wrk.mjs";

const here = dirname(fileURLToPath(import.meta.url));

async function main() {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "10" },
      top: { type: "string", default: "15" },
      "access-log": { type: "boolean", default: false },
      startup: { type: "boolean", default: false },
    },
  });
  const durationS = Math.min(600, Math.max(1, Number(values.duration) || 10));
  const top = Math.min(100, Math.max(1, Number(values.top) || 15));
  if (!wrkAvailable()) {
    process.stderr.write(`profile: wrk is not installed (expected at ${WRK}).\nInstall it with:  sudo apt-get install -y wrk\n`);
    process.exit(1);
  }
  installCleanupHandlers();
  const outDir = join(here, "results", "cpuprofile");
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const dir = writeProject("profile", wranglerToml("hello"), { "src/index.js": HELLO_WORKER });
  const server = await startLedge(dir, { accessLog: values["access-log"], nodeArgs: ["--cpu-prof", "--cpu-prof-dir", outDir] });
  let load = { rps: 0, p50Ms: null, p99Ms: null };
  if (values.startup) {
    // The CLI installs its SIGTERM handler a moment after it starts answering; a SIGTERM before
    // that kills it without writing the profiles.
    await sleep(1_000);
  } else {
    process.stderr.write(`profile: loading ${server.url}/ for ${durationS} s\n`);
    load = await runWrk({ url: server.url + "/", durationS });
  }
  // V8 writes the profiles when the process exits normally; give the drain time before SIGKILL.
  await stop(server.child, 15_000);
  const files = readdirSync(outDir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) throw new Error("no .cpuprofile was written (did the server exit normally?)");
  // Names are CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile; thread 0 is the main thread.
  const threadOf = (f) => Number(f.split(".")[4]);
  const result = { load: { rps: Math.round(load.rps), p50Ms: load.p50Ms, p99Ms: load.p99Ms }, threads: [] };
  for (const f of files.sort((a, b) => threadOf(a) - threadOf(b))) {
    const s = summariseProfile(join(outDir, f), REPO);
    result.threads.push({ thread: threadOf(f) === 0 ? "main" : `worker ${threadOf(f)}`, file: f, ...s, functions: s.functions.slice(0, 40), files: s.files.slice(0, 25) });
  }
  writeFileSync(join(here, "results", "profile.json"), JSON.stringify(result, null, 2) + "\n");

  const out = [
    values.startup
      ? "start-up profile: from process start until the first 200, then SIGTERM"
      : `wrk during the profile: ${result.load.rps} req/s, p50 ${result.load.p50Ms} ms, p99 ${result.load.p99Ms} ms (profiling slows the server)`,
  ];
  for (const t of result.threads) {
    out.push("", `── ${t.thread} thread: ${t.wallMs} ms profiled, ${t.busyPercent}% busy ──`, "  self %   self ms  function");
    for (const fn of t.functions.slice(0, top)) out.push(`  ${fn.percent.toFixed(1).padStart(6)}  ${fn.selfMs.toFixed(0).padStart(8)}  ${fn.name}`);
    out.push("  by file:");
    for (const fl of t.files.slice(0, 8)) out.push(`  ${fl.percent.toFixed(1).padStart(6)}  ${fl.selfMs.toFixed(0).padStart(8)}  ${fl.name}`);
  }
  process.stdout.write(out.join("\n") + "\n");
  process.stderr.write(`profile: wrote bench/results/profile.json and ${files.length} .cpuprofile file(s) in bench/results/cpuprofile/\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`profile: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
