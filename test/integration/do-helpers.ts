/**
 * Shared by the Durable Object integration tests (`do-*.test.ts`): a project written to a temporary
 * folder, served by the real CLI with its state in another temporary folder, restartable (SIGTERM
 * or SIGKILL) on the same state, and small HTTP/WebSocket client helpers.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

export interface DoProject {
  dir: string;
  stateDir: string;
  ledge: RunningLedge;
  url: string;
  /** Stops the node (SIGTERM, or SIGKILL when `kill`) and starts it again on the same state. */
  restart(opts?: { kill?: boolean; args?: string[] }): Promise<RunningLedge>;
  /** Stops the node and removes both folders. */
  close(): Promise<void>;
}

/**
 * Writes `files` and serves them with `ledge serve --persist-to <tmp> --no-access-log ...args`.
 * @example const p = await serveProject({ "wrangler.toml": toml, "src/index.js": js }, ["--isolates", "2"]);
 */
export async function serveProject(files: Record<string, string>, args: string[] = []): Promise<DoProject> {
  const dir = writeProject(files, "ledge-do-");
  const stateDir = mkdtempSync(join(tmpdir(), "ledge-do-state-"));
  const base = ["--persist-to", stateDir, "--no-access-log"];
  let current: RunningLedge;
  try {
    current = await startLedge(dir, { args: [...base, ...args] });
  } catch (err) {
    removeDir(dir);
    removeDir(stateDir);
    throw err;
  }
  const project: DoProject = {
    dir,
    stateDir,
    get ledge() {
      return current;
    },
    get url() {
      return current.url;
    },
    async restart(opts = {}) {
      if (opts.kill) await current.kill();
      else await current.stop();
      current = await startLedge(dir, { args: [...base, ...(opts.args ?? args)] });
      return current;
    },
    async close() {
      await current?.kill();
      removeDir(dir);
      removeDir(stateDir);
    },
  };
  return project;
}

/** A wrangler.toml with one binding per class (binding name = class name upper-cased). */
export function wranglerToml(opts: { name?: string; classes: string[]; kvClasses?: string[]; extra?: string }): string {
  const lines = [`name = "${opts.name ?? "do-test"}"`, `main = "src/index.js"`, `compatibility_date = "2026-11-01"`, ""];
  for (const c of [...opts.classes, ...(opts.kvClasses ?? [])]) {
    lines.push("[[durable_objects.bindings]]", `name = "${c.toUpperCase()}"`, `class_name = "${c}"`, "");
  }
  lines.push("[[migrations]]", `tag = "v1"`, `new_sqlite_classes = [${opts.classes.map((c) => `"${c}"`).join(", ")}]`);
  if (opts.kvClasses?.length) lines.push(`new_classes = [${opts.kvClasses.map((c) => `"${c}"`).join(", ")}]`);
  if (opts.extra) lines.push("", opts.extra);
  return lines.join("\n") + "\n";
}

/**
 * GETs (or POSTs `body` as JSON) and returns the status and parsed JSON body. Gives up after
 * `timeoutMs` so that a request the node never answers fails its test instead of hanging it.
 */
export async function json<T = any>(url: string, body?: unknown, timeoutMs = 15_000): Promise<{ status: number; body: T }> {
  const signal = AbortSignal.timeout(timeoutMs);
  const init: RequestInit =
    body === undefined ? { signal } : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" }, signal };
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed as T };
}

/** Opens a `ws` client and resolves once it is open; messages are queued for `next()`. */
export async function openSocket(url: string): Promise<TestSocket> {
  const ws = new WebSocket(url.replace(/^http/, "ws"));
  const s = new TestSocket(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`WebSocket upgrade answered ${res.statusCode}`)));
  });
  return s;
}

export class TestSocket {
  readonly #queue: string[] = [];
  readonly #waiters: ((m: string) => void)[] = [];
  closed: Promise<{ code: number; reason: string }>;
  constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const m = data.toString("utf8");
      const w = this.#waiters.shift();
      if (w) w(m);
      else this.#queue.push(m);
    });
    this.closed = new Promise((resolve) => ws.once("close", (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
  }
  /** The next message (queued or future), or a rejection after `timeoutMs`. */
  next(timeoutMs = 5000): Promise<string> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(done), 1);
        reject(new Error(`no WebSocket message within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (m: string) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.#waiters.push(done);
    });
  }
  /** Skips messages until one satisfies `accept`, and returns it. */
  async nextWhere(accept: (m: string) => boolean, timeoutMs?: number): Promise<string> {
    for (;;) {
      const m = await this.next(timeoutMs);
      if (accept(m)) return m;
    }
  }
  /** Sends `message` and returns the next message received. */
  async ask(message: string, timeoutMs?: number): Promise<string> {
    this.ws.send(message);
    return this.next(timeoutMs);
  }
  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
  }
}
