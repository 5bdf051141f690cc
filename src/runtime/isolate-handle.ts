/**
 * The host's handle on one app isolate (a worker thread): starts it, sends it events, matches
 * replies to requests, and watches it. An isolate that stops answering pings while it has work
 * for longer than the app's CPU limit is terminated; so is one that runs out of heap (V8 stops it).
 */
import { existsSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { Worker, type MessagePort } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import type { HostToIsolate, IsolateInit, IsolateToHost } from "./protocol.js";
import type { SerializedError, SerializedResponse } from "../shared/wire.js";

/** The isolate's runtime, bundled into one file by `npm run build` (scripts/bundle.mjs). */
const WORKER_BUNDLE = fileURLToPath(new URL("./isolate/worker.bundle.mjs", import.meta.url));
const WORKER_PATH = existsSync(WORKER_BUNDLE) ? WORKER_BUNDLE : fileURLToPath(new URL("./isolate/worker.js", import.meta.url));

// Workers refuses code generation from strings (`eval`, `new Function`, and every
// `constructor.constructor(...)` path to them); so must an isolate. V8 reads this flag when it
// creates a context, so it holds for every worker thread started from now on, while this (the
// host's) thread keeps the context it already has. WebAssembly compilation is a separate switch
// and stays allowed, as on Workers.
setFlagsFromString("--disallow-code-generation-from-strings");

export interface FetchSink {
  response(res: SerializedResponse): void;
  chunk(data: ArrayBuffer): void;
  end(error?: SerializedError): void;
  /** The request failed before a response: `status` 503 when the isolate was killed. */
  fail(error: SerializedError, status: number): void;
}

type Pending =
  | { kind: "fetch"; sink: FetchSink; streaming: boolean }
  | { kind: "done"; resolve(v: { ok: boolean; error?: SerializedError; noRetry?: boolean }): void }
  | { kind: "call"; resolve(v: { ok: boolean; value?: unknown; error?: SerializedError }): void };

export interface IsolateEvents {
  message(isolate: IsolateHandle, msg: IsolateToHost): void;
  exit(isolate: IsolateHandle, reason: SerializedError): void;
}

let nextIsolate = 0;

/** Allowance for a worker thread to boot, on top of the app's CPU limit, before its start-up is overdue. */
const STARTUP_BOOT_MS = 2_000;

export class IsolateHandle {
  readonly id: string;
  readonly worker: Worker;
  /** Resolves when the isolate evaluated the app's code; rejects with its start-up error. */
  ready!: Promise<{ exports: string[]; startMs: number }>;
  inflight = 0;
  dead = false;
  /** True once the app's code was evaluated: only then does the pool send it stateless requests. */
  isReady = false;
  initialized = false;
  poolIndex = -1;
  /** The app it runs ("" until `init`). */
  appName = "";
  #pending = new Map<number, Pending>();
  #nextRid = 1;
  #lastSign = Date.now();
  #pingOutstanding = false;
  #events: IsolateEvents | null = null;
  #resolveReady!: (v: { exports: string[]; startMs: number }) => void;
  #rejectReady!: (e: SerializedError) => void;
  #exitReason: SerializedError | null = null;

  /** Starts the thread; it loads the runtime and waits for `init` (so it can be pre-started). */
  constructor(memoryMb: number) {
    this.id = `${process.pid.toString(36)}${(++nextIsolate).toString(36)}`;
    this.worker = new Worker(WORKER_PATH, {
      resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: Math.min(16, Math.max(2, memoryMb / 32)) },
      stdout: false,
      stderr: false,
      // The thread's process.env starts as a copy of the host's (secrets included) unless given one.
      env: {},
    });
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.worker.on("message", (msg: IsolateToHost | { t: "batch"; msgs: IsolateToHost[] }) => {
      if (msg.t === "batch") for (const m of msg.msgs) this.#onMessage(m);
      else this.#onMessage(msg);
    });
    this.worker.on("error", (err: Error & { code?: string }) => {
      this.#exitReason =
        err.code === "ERR_WORKER_OUT_OF_MEMORY"
          ? { name: "Error", message: "Worker exceeded its memory limit and was restarted", code: "LEDGE_MEMORY_LIMIT" }
          : { name: err.name, message: err.message, stack: err.stack, code: err.code };
    });
    this.worker.on("exit", (code) => this.#onExit(code));
  }

  /** Hands the isolate its app. */
  init(init: IsolateInit, peers: (MessagePort | null)[], events: IsolateEvents): void {
    this.poolIndex = init.poolIndex;
    this.appName = init.appName;
    this.#events = events;
    this.initialized = true;
    const transfer = peers.filter((p): p is MessagePort => p !== null);
    this.worker.postMessage({ t: "init", init: { ...init, isolateId: this.id }, peers }, transfer);
    // The watchdog only looks at isolates with requests, so a global scope that never finishes (an
    // endless loop at the top level) would leave the app starting forever. It gets the app's CPU
    // limit, plus time for the thread itself to boot.
    const limitMs = init.config.limits.cpuMs + STARTUP_BOOT_MS;
    const timer = setTimeout(() => {
      this.kill({
        name: "Error",
        message: `the global scope did not finish within ${limitMs} ms (limits.cpu_ms + ${STARTUP_BOOT_MS} ms); is there an endless loop at the top level?`,
        code: "LEDGE_STARTUP_LIMIT",
      });
    }, limitMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    this.ready.then(clear, clear);
  }

  /**
   * Queues a message; everything queued during one turn of the event loop goes in one
   * `postMessage` (a `batch`), which under load saves most of the per-message cost of crossing
   * threads. Order is preserved.
   */
  post(msg: HostToIsolate, transfer?: (ArrayBuffer | MessagePort)[]): void {
    if (this.dead) return;
    this.#queue.push(msg);
    if (transfer) this.#transfer.push(...transfer);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  #queue: HostToIsolate[] = [];
  #transfer: (ArrayBuffer | MessagePort)[] = [];
  #flushScheduled = false;
  #flush = (): void => {
    this.#flushScheduled = false;
    const q = this.#queue;
    const transfer = this.#transfer;
    this.#queue = [];
    this.#transfer = [];
    if (this.dead || q.length === 0) return;
    this.worker.postMessage(q.length === 1 ? q[0] : { t: "batch", msgs: q }, transfer);
  };

  /** Asks the isolate to finish its work; resolves when it is idle or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void> {
    if (this.dead) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const onExit = () => done();
      const self = this;
      function done() {
        clearTimeout(timer);
        self.#idleWaiters.delete(done);
        self.worker.off("exit", onExit);
        resolve();
      }
      this.#idleWaiters.add(done);
      this.worker.once("exit", onExit);
      this.post({ t: "drain" });
    });
  }
  #idleWaiters = new Set<() => void>();

  fetch(msg: Omit<Extract<HostToIsolate, { t: "fetch" }>, "rid" | "t">, sink: FetchSink): number {
    const rid = this.#begin({ kind: "fetch", sink, streaming: false });
    const body = msg.req.body;
    this.post({ t: "fetch", rid, reqId: msg.reqId, req: msg.req }, body ? [body] : undefined);
    return rid;
  }

  cancel(rid: number): void {
    this.post({ t: "cancel", rid });
  }

  run(msg: Extract<HostToIsolate, { t: "scheduled" } | { t: "alarm" }>): Promise<{ ok: boolean; error?: SerializedError; noRetry?: boolean }> {
    return new Promise((resolve) => {
      const rid = this.#begin({ kind: "done", resolve });
      this.post({ ...msg, rid });
    });
  }

  call(msg: Extract<HostToIsolate, { t: "object-call" }>): Promise<{ ok: boolean; value?: unknown; error?: SerializedError }> {
    return new Promise((resolve) => {
      const rid = this.#begin({ kind: "call", resolve });
      this.post({ ...msg, rid });
    });
  }

  #begin(p: Pending): number {
    const rid = this.#nextRid++;
    if (this.inflight === 0) this.#lastSign = Date.now();
    this.inflight++;
    this.#pending.set(rid, p);
    if (this.dead) queueMicrotask(() => this.#failOne(rid, this.#exitReason ?? deadError()));
    return rid;
  }

  #finish(rid: number): Pending | undefined {
    const p = this.#pending.get(rid);
    if (p) {
      this.#pending.delete(rid);
      this.inflight--;
    }
    return p;
  }

  #onMessage(msg: IsolateToHost): void {
    this.#lastSign = Date.now();
    switch (msg.t) {
      case "response": {
        const p = this.#pending.get(msg.rid);
        if (p?.kind !== "fetch") return;
        if (msg.res.stream) p.streaming = true;
        else this.#finish(msg.rid);
        p.sink.response(msg.res);
        return;
      }
      case "chunk": {
        const p = this.#pending.get(msg.rid);
        if (p?.kind === "fetch") p.sink.chunk(msg.data);
        return;
      }
      case "end": {
        const p = this.#finish(msg.rid);
        if (p?.kind === "fetch") p.sink.end(msg.error);
        return;
      }
      case "error": {
        const p = this.#finish(msg.rid);
        if (p?.kind === "fetch") p.sink.fail(msg.error, msg.status ?? 500);
        return;
      }
      case "done": {
        const p = this.#finish(msg.rid);
        if (p?.kind === "done") p.resolve({ ok: msg.ok, error: msg.error, noRetry: msg.noRetry });
        return;
      }
      case "object-result": {
        const p = this.#pending.get(msg.rid);
        if (p?.kind === "call") {
          this.#finish(msg.rid);
          p.resolve({ ok: msg.ok, value: msg.value, error: msg.error });
          return;
        }
        break;
      }
      case "pong":
        this.#pingOutstanding = false;
        return;
      case "idle":
        for (const fn of [...this.#idleWaiters]) fn();
        return;
      case "ready":
        this.isReady = true;
        // Work queued while the thread booted starts now; its CPU clock starts with it.
        this.#lastSign = Date.now();
        this.#resolveReady({ exports: msg.exports, startMs: msg.startMs });
        return;
      case "init-error":
        this.#exitReason = msg.error;
        this.#rejectReady(msg.error);
        return;
    }
    this.#events?.message(this, msg);
  }

  /**
   * Called by the node's watchdog. Returns true when the isolate has had work but no sign of life
   * for longer than `limitMs`, which means user code is stuck in a synchronous loop.
   */
  overdue(now: number, limitMs: number): boolean {
    // A booting isolate has its own deadline (limits.cpu_ms + STARTUP_BOOT_MS, see init()); work
    // queued to it meanwhile has not started, so it cannot have used CPU time yet. Under load a
    // cold boot can take longer than cpu_ms, and counting from the queueing killed fresh isolates.
    if (this.dead || this.inflight === 0 || !this.isReady) return false;
    if (now - this.#lastSign > limitMs) return true;
    if (!this.#pingOutstanding && now - this.#lastSign > 100) {
      this.#pingOutstanding = true;
      this.post({ t: "ping", seq: now });
    }
    return false;
  }

  /** Stops the isolate; requests in flight fail with `reason` (503 for fetches). */
  kill(reason: SerializedError): void {
    if (this.dead) return;
    this.#exitReason = reason;
    void this.worker.terminate();
  }

  #failOne(rid: number, reason: SerializedError): void {
    const p = this.#finish(rid);
    if (!p) return;
    if (p.kind === "fetch") {
      if (p.streaming) p.sink.end(reason);
      else p.sink.fail(reason, 503);
    } else if (p.kind === "done") p.resolve({ ok: false, error: reason });
    else p.resolve({ ok: false, error: reason });
  }

  #onExit(code: number): void {
    this.dead = true;
    const reason = this.#exitReason ?? { ...deadError(), message: `Isolate exited with code ${code}` };
    this.#rejectReady(reason);
    for (const rid of [...this.#pending.keys()]) this.#failOne(rid, reason);
    this.#events?.exit(this, reason);
  }
}

function deadError(): SerializedError {
  return { name: "Error", message: "The isolate serving this request stopped", code: "LEDGE_ISOLATE_GONE" };
}
