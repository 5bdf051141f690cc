/**
 * Every process and temporary directory the benchmark creates is registered here, so that a normal
 * end, an error, Ctrl-C or SIGTERM all leave nothing behind. Children are stopped with SIGTERM
 * (Ledge drains and exits) and, if they are still there after a grace period, SIGKILL.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const children = new Set();
const tempDirs = new Set();

/** Spawns a child process that is killed when the benchmark ends, however it ends. */
export function track(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  children.add(child);
  child.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  child.once("exit", () => children.delete(child));
  child.once("error", () => children.delete(child));
  return child;
}

/** Stops one child: SIGTERM, then SIGKILL after `graceMs` (default 3,000). */
export async function stop(child, graceMs = 3_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** A fresh directory under the OS temp dir, removed when the benchmark ends. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `ledge-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

/** Stops every child still running and removes the temporary directories. */
export async function cleanupAll() {
  await Promise.all([...children].map((c) => stop(c)));
  removeTempDirs();
}

function removeTempDirs() {
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // A directory that cannot be removed is left for the OS temp cleaner; it is never fatal.
    }
  }
  tempDirs.clear();
}

/** Last resort at process exit: only synchronous work is possible there, so SIGKILL. */
function killAllNow() {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  removeTempDirs();
}

let installed = false;
/** Installs the signal and exit handlers once. */
export function installCleanupHandlers() {
  if (installed) return;
  installed = true;
  process.on("exit", killAllNow);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig} received, stopping the processes it started…\n`);
      const hardStop = setTimeout(() => process.exit(130), 4_000);
      void cleanupAll().finally(() => {
        clearTimeout(hardStop);
        process.exit(130);
      });
    });
  }
}

/** Collects a child's output (bounded to the last `maxChars` characters) for error messages. */
export function capture(stream, maxChars = 20_000) {
  const box = { text: "" };
  stream?.setEncoding("utf8");
  stream?.on("data", (d) => {
    box.text = (box.text + d).slice(-maxChars);
  });
  return box;
}

/** Waits for `child` to exit, at most `ms`; resolves true if it did. */
export async function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  let timer;
  const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const r = await Promise.race([child.exited.then(() => true), timedOut]);
  clearTimeout(timer);
  return r;
}
