/**
 * Starting the servers under test: the `node:http` yardstick and the Ledge CLI, each a child
 * process on a free port, ready once it has answered one request with 200.
 */
import { closeSync, openSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitFor200 } from "./net.mjs";
import { capture, stop, track } from "./procs.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = join(here, "..", "..");
export const LEDGE_BIN = join(REPO, "bin", "ledge.js");

/** A running server under test. `output()` is its captured stderr (and stdout when piped). */
class Server {
  constructor(name, child, port, logs) {
    this.name = name;
    this.child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.logs = logs;
  }
  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  output() {
    return this.logs.map((l) => l.text).join("");
  }
  stop() {
    return stop(this.child);
  }
}

export async function startYardstick() {
  const port = await freePort();
  const child = track(process.execPath, [join(REPO, "bench", "servers", "yardstick.mjs"), String(port)]);
  const server = new Server("node:http", child, port, [capture(child.stdout), capture(child.stderr)]);
  await ready(server, "/");
  return server;
}

/**
 * Starts `ledge serve|dev DIR` on a free port.
 * @param {string} dir project directory
 * @param {object} [o]
 * @param {"serve"|"dev"} [o.mode]  default "serve"
 * @param {boolean} [o.accessLog]   default false; when on, stdout (where the access log goes) is sent to /dev/null
 * @param {string[]} [o.args]       extra CLI flags
 * @param {string} [o.readyPath]    the path polled until it answers 200 (default "/")
 * @param {string[]} [o.nodeArgs]   flags for node itself (e.g. --cpu-prof)
 */
export async function startLedge(dir, { mode = "serve", accessLog = false, args = [], readyPath = "/", nodeArgs = [] } = {}) {
  const port = await freePort();
  const cli = [...nodeArgs, LEDGE_BIN, mode, dir, "--port", String(port), ...args];
  if (!accessLog) cli.push("--no-access-log");
  let devNull = null;
  if (accessLog) devNull = openSync("/dev/null", "w");
  const child = track(process.execPath, cli, { stdio: ["ignore", accessLog ? devNull : "pipe", "pipe"], cwd: REPO });
  if (devNull !== null) closeSync(devNull);
  const logs = [capture(child.stderr)];
  if (!accessLog) logs.push(capture(child.stdout));
  const server = new Server(accessLog ? "ledge (access log on)" : "ledge", child, port, logs);
  await ready(server, readyPath);
  return server;
}

async function ready(server, path) {
  try {
    await waitFor200(server.url + path, { timeoutMs: 20_000, intervalMs: 20, isAlive: () => server.alive });
  } catch (err) {
    await server.stop();
    const tail = server.output().trim().split("\n").slice(-5).join("\n  ");
    throw new Error(`${server.name} did not start: ${err.message}${tail ? `\n  ${tail}` : ""}`);
  }
}

/**
 * Memory of a process from /proc/<pid>/status, in MiB: `rss` now and `hwm` (peak). Worker threads
 * share their process's address space, so Ledge's figure includes every app isolate.
 */
export function memoryMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024, threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? NaN) };
}

/** CPU time (user + system) a process used so far, in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at "state"; utime and stime
    // are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return NaN;
  }
}
