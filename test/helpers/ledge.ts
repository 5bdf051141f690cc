/**
 * Test helpers that run the real CLI (`bin/ledge.js`, built from src/ by `npm test`'s pretest) on a
 * free port, against a project written into a temporary folder.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = join(REPO, "bin", "ledge.js");

/** Writes `files` (path → contents) under a new temporary folder and returns its path. */
export function writeProject(files: Record<string, string | Uint8Array>, prefix = "ledge-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [rel, contents] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, contents);
  }
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface RunningLedge {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything printed so far on stdout and stderr. */
  output(): string;
  /** Resolves once `pattern` appears in the output (or rejects after `timeoutMs`). */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

/** Starts `ledge <command> <dir> --port 0 ...args` and waits for "Ready on". */
export async function startLedge(
  dir: string,
  opts: { command?: "dev" | "serve"; args?: string[]; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunningLedge> {
  const proc = spawn(process.execPath, [BIN, opts.command ?? "serve", dir, "--port", "0", ...(opts.args ?? [])], {
    cwd: dir,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  proc.stdout!.on("data", onData);
  proc.stderr!.on("data", onData);
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const waitFor = (pattern: string | RegExp, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const test = () => (typeof pattern === "string" ? out.includes(pattern) : pattern.test(out));
      if (test()) return resolve();
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output:\n${out}`));
      }, timeoutMs);
      const check = () => {
        if (test()) {
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        }
      };
      listeners.add(check);
      void exited.then(() => {
        if (!test() && listeners.has(check)) {
          clearTimeout(timer);
          listeners.delete(check);
          reject(new Error(`ledge exited before printing ${pattern}; output:\n${out}`));
        }
      });
    });
  await waitFor(/Ready on http:\/\/[^\s]+:\d+/, opts.timeoutMs ?? 15_000);
  const port = Number(/Ready on http:\/\/[^\s]+:(\d+)/.exec(out)![1]);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    output: () => out,
    waitFor,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
}

/**
 * Starts `ledge` on `dir` (as `startLedge`), runs `fn` against it and stops it, also when `fn` throws.
 * Example: `const text = await withLedge(dir, { args: ["--no-access-log"] }, async (l) => (await fetch(l.url)).text());`
 */
export async function withLedge<T>(dir: string, opts: Parameters<typeof startLedge>[1], fn: (ledge: RunningLedge) => Promise<T>): Promise<T> {
  const ledge = await startLedge(dir, opts);
  try {
    return await fn(ledge);
  } finally {
    await ledge.stop();
  }
}

/** Runs the CLI to completion (for commands that exit, or start-up failures); `input` is piped to its stdin. */
export function runLedge(
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; input?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, ...opts.env },
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (opts.input !== undefined) proc.stdin!.end(opts.input);
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`ledge ${args.join(" ")} did not exit within ${opts.timeoutMs ?? 15_000} ms:\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 15_000);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Polls `fn` until it returns a truthy value; every call site says what it waits for. */
export async function eventually<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
