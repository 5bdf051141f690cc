/**
 * Runs wrk (1 thread, 50 connections by default) against a URL and returns requests/s and the
 * latency distribution, read from the JSON line printed by wrk/report.lua.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { capture, stop, tempDir, track } from "./procs.mjs";

export const WRK = "/usr/bin/wrk";
const here = dirname(fileURLToPath(import.meta.url));
const MARKER = "LEDGE_BENCH_JSON ";

export function wrkAvailable() {
  return existsSync(WRK);
}

let scripts = null;
/** The two Lua scripts wrk can be given: fixed path, or random paths. Written once per run. */
function scriptPaths() {
  if (scripts) return scripts;
  const dir = tempDir("lua");
  const report = readFileSync(join(here, "..", "wrk", "report.lua"), "utf8");
  const random = readFileSync(join(here, "..", "wrk", "random-path.lua"), "utf8");
  scripts = { fixed: join(dir, "fixed.lua"), random: join(dir, "random.lua") };
  writeFileSync(scripts.fixed, report);
  writeFileSync(scripts.random, `${report}\n${random}`);
  return scripts;
}

/**
 * One wrk run.
 * @param {object} o
 * @param {string} o.url           target URL; with `randomPaths`, its path is replaced
 * @param {number} o.durationS     seconds of load (1..600)
 * @param {number} [o.connections] open connections (default 50)
 * @param {{prefix: string, count: number}} [o.randomPaths] spread requests over prefix0..prefix<count-1>
 * @returns {Promise<{rps: number, requests: number, p50Ms: number, p90Ms: number, p99Ms: number, maxMs: number, errors: object, non2xx: number, socketErrors: number}>}
 */
export async function runWrk({ url, durationS, connections = 50, randomPaths }) {
  const s = scriptPaths();
  const args = ["-t1", `-c${connections}`, `-d${durationS}s`, "--timeout", "5s", "-s", randomPaths ? s.random : s.fixed, url];
  if (randomPaths) args.push("--", randomPaths.prefix, String(randomPaths.count));
  const child = track(WRK, args);
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  // wrk stops by itself after the duration; the guard only covers a wedged run.
  const guard = setTimeout(() => void stop(child), (durationS + 20) * 1000);
  const { code } = await child.exited;
  clearTimeout(guard);
  const line = out.text.split("\n").find((l) => l.startsWith(MARKER));
  if (code !== 0 || !line) {
    throw new Error(`wrk failed (exit ${code}): ${(err.text || out.text).trim().split("\n").slice(-3).join(" / ")}`);
  }
  const r = JSON.parse(line.slice(MARKER.length));
  const seconds = r.durationUs / 1e6;
  const e = r.errors;
  return {
    rps: seconds > 0 ? r.requests / seconds : 0,
    requests: r.requests,
    p50Ms: r.latencyUs.p50 / 1000,
    p90Ms: r.latencyUs.p90 / 1000,
    p99Ms: r.latencyUs.p99 / 1000,
    maxMs: r.latencyUs.max / 1000,
    non2xx: e.status,
    socketErrors: e.connect + e.read + e.write + e.timeout,
    errors: e,
  };
}
