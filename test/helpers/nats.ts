/**
 * Starts real `nats-server` processes for tests: JetStream on, loopback only, a port the kernel
 * picks (`-p -1`, read back from the server's log, so two servers never race for one port) and a
 * store folder of its own. Stop each one in an `after` hook; any still running when the test
 * process exits are killed then.
 *
 * The binary is `LEDGE_NATS_SERVER`, else `nats-server` on PATH, else `/usr/sbin/nats-server`
 * (Debian's package, which `npm test` installs where missing: scripts/test-prereqs.mjs).
 *
 * Example: `const nats = await startNatsServer(); after(() => nats.stop()); connect(nats.port)`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServer } from "../../scripts/test-prereqs.mjs";

export interface RunningNats {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The JetStream store (`-sd`), removed by `stop()`. */
  storeDir: string;
  proc: ChildProcess;
  /** Everything the server logged so far. */
  output(): string;
  /** SIGTERM, SIGKILL if it has not exited within `STOP_TIMEOUT_MS`, then removes the store. */
  stop(): Promise<void>;
}

/** Bound for "Server is ready" after spawn (normally ~10 ms; JetStream recovery can take longer). */
const READY_TIMEOUT_MS = 10_000;
/** Bound for a clean shutdown after SIGTERM before SIGKILL (normally a few ms). */
const STOP_TIMEOUT_MS = 5_000;

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
});

/** Starts one server. `args` are appended to the command line (e.g. cluster options). */
export async function startNatsServer(opts: { args?: string[]; readyTimeoutMs?: number } = {}): Promise<RunningNats> {
  const bin = findNatsServer();
  if (!bin) {
    throw new Error("nats-server not found (LEDGE_NATS_SERVER, PATH, /usr/sbin/nats-server); `npm test` installs it with apt-get");
  }
  const storeDir = mkdtempSync(join(tmpdir(), "ledge-nats-"));
  const proc = spawn(bin, ["-a", "127.0.0.1", "-p", "-1", "-js", "-sd", storeDir, ...(opts.args ?? [])], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(proc);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  void exited.then(() => running.delete(proc));
  let out = "";
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      rmSync(storeDir, { recursive: true, force: true });
    })());

  const port = await new Promise<number>((resolve, reject) => {
    const timeoutMs = opts.readyTimeoutMs ?? READY_TIMEOUT_MS;
    const timer = setTimeout(() => done(new Error(`nats-server not ready after ${timeoutMs} ms; output:\n${out}`)), timeoutMs);
    let settled = false;
    const done = (err: Error | undefined, port?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.stdout!.off("data", onData);
      proc.stderr!.off("data", onData);
      if (err) void stop().then(() => reject(err));
      else resolve(port!);
    };
    const onData = (d: Buffer) => {
      out += d.toString();
      const listening = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(out);
      if (listening && out.includes("Server is ready")) done(undefined, Number(listening[1]));
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.once("error", (e) => done(new Error(`nats-server (${bin}) did not start: ${e.message}`)));
    void exited.then(() => done(new Error(`nats-server exited before it was ready; output:\n${out}`)));
  });
  // Keep collecting the log (and keep the pipes drained) after readiness.
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return { url: `nats://127.0.0.1:${port}`, port, storeDir, proc, output: () => out, stop };
}
