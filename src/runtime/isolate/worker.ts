/**
 * Entry point of an app isolate (a worker thread). Receives the bundle and config in its first
 * message, shapes the global scope, evaluates the bundle, then serves events from the host: HTTP requests,
 * cron triggers, alarms, WebSocket frames, and Durable Object calls from other isolates.
 */
import { once } from "node:events";
import { parentPort, type MessagePort } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { setImmediate } from "node:timers";
import type { HostToIsolate, IsolateInit, IsolateToHost } from "../protocol.js";
import { serializeError, type SerializedError } from "../../shared/wire.js";
import { currentReqId, ExecutionContext, invocation, settleWaitUntil, type InvocationState } from "./context.js";
import { evaluateBundle } from "./evaluate.js";
import { installGlobals } from "./globals.js";
import { responseHead, toRequest, type SocketExporter, setCfBase } from "./http.js";
import { buildEnv } from "./env.js";
import { ObjectRouting } from "./routing.js";
import { kHibernation, type ObjectCall, type ObjectEvent } from "../../objects/index.js";
import { createWorkersModule, WorkerEntrypoint } from "./workers-module.js";
import { serverEndOf, setListenerErrorReporter, setPairHook, setSocketIdPrefix, type WebSocket, type WsTransport } from "./websocket.js";
import { lazyCaches } from "./caches.js";
import { lockdown } from "./lockdown.js";
import { createNodeModules, loadPolyfills } from "./node/modules.js";
import type { TmpStore } from "./node/fs/index.js";
import { basename } from "node:path";
import { createWorkersProcess, processEnv } from "./node/process.js";

const port = parentPort!;
// Isolates are started before their app's code is known (a warm spare, or while esbuild bundles),
// so the code and config arrive in the first message rather than in workerData.
const [first] = (await once(port, "message")) as [{ t: "init"; init: IsolateInit; peers: (MessagePort | null)[] }];
const started = performance.now();
const init = first.init;
const peers = first.peers;

/** Messages to the host, batched per turn of the event loop (see IsolateHandle.post). */
let outQueue: IsolateToHost[] = [];
let outTransfer: ArrayBuffer[] = [];
let outScheduled = false;
function flushOut(): void {
  outScheduled = false;
  const q = outQueue;
  const transfer = outTransfer;
  outQueue = [];
  outTransfer = [];
  if (q.length > 0) port.postMessage(q.length === 1 ? q[0] : { t: "batch", msgs: q }, transfer as never);
}
function post(msg: IsolateToHost, transfer?: ArrayBuffer[]): void {
  outQueue.push(msg);
  if (transfer) outTransfer.push(...transfer);
  if (!outScheduled) {
    outScheduled = true;
    setImmediate(flushOut);
  }
}

// Workers logs an exception thrown from a timer callback or an unhandled rejection; it does not
// tear down the isolate (Node's default for a worker thread would).
process.on("uncaughtException", (err) => logError(err, "Uncaught exception"));
process.on("unhandledRejection", (err) => logError(err, "Unhandled promise rejection"));

function logError(err: unknown, where: string): void {
  const e = err as Error;
  console.error(`${where}: ${e?.stack ?? String(err)}`);
}

setSocketIdPrefix(init.isolateId);
setCfBase({ colo: init.colo, country: "XX", asn: 0, asOrganization: "", clientTcpRtt: 0, tlsVersion: "", tlsCipher: "", requestPriority: "" });
// Sockets made while a Durable Object handles an event belong to that object (output gate, pinning).
setPairHook((_client, server) => {
  const key = invocation.getStore()?.objectKey;
  if (key) routing.objects.adopt(key, server);
});
setListenerErrorReporter((err) => logError(err, "WebSocket event listener"));

/** Server ends of sockets whose client end left the isolate, by wsId. */
const bridged = new Map<string, WebSocket>();
const exporter: SocketExporter = (client) => {
  const server = serverEndOf(client)!;
  bridged.set(server.wsId, server);
  const toHost: WsTransport = {
    send: (data) => post({ t: "ws-send", wsId: server.wsId, data }, typeof data === "string" ? undefined : [data]),
    close: (code, reason) => post({ t: "ws-close", wsId: server.wsId, code, reason }),
  };
  server.attachTransport(toHost);
  client.markTransferred(toHost);
  return { wsId: server.wsId, isolate: init.isolateId };
};

const config = init.config;
const routing = new ObjectRouting(init, peers, post, exporter, logError);
const { env } = buildEnv(config, init.persistDir, routing);
const workersModule = createWorkersModule(env);
const binaryTypeBlob = config.compatibilityDate >= "2026-03-17" || config.compatibilityFlags.includes("websocket_standard_binary_type");
installGlobals({ appName: init.appName, caches: lazyCaches(init), binaryTypeBlob });
const populateEnv =
  config.nodejsCompat &&
  !config.compatibilityFlags.includes("nodejs_compat_do_not_populate_process_env") &&
  (config.compatibilityDate >= "2025-04-01" || config.compatibilityFlags.includes("nodejs_compat_populate_process_env"));
// /tmp is private to each invocation (a request, an object's event, a cron run); code running
// outside one (a timer set at start-up) shares one for the isolate.
let isolateTmp: TmpStore | undefined;
const bundleName = `${basename(config.main ?? "worker.js").replace(/\.[cm]?[jt]sx?$/, "")}.js`;
const nodeModule = createNodeModules({
  process: () => globalThis.process,
  fs: {
    bundleFiles: () => new Map([[bundleName, new TextEncoder().encode(init.code)]]),
    tmp: () => {
      const state = invocation.getStore();
      if (!state) return (isolateTmp ??= loadPolyfills().createTmpStore());
      return (state.tmp ??= loadPolyfills().createTmpStore()) as TmpStore;
    },
  },
});
lockdown({ workersProcess: () => createWorkersProcess({ env: processEnv(config.vars, populateEnv), builtin: nodeModule }) });

let exportsObj: Record<string, unknown>;
try {
  exportsObj = evaluateBundle(init.code, `${init.appName}.js`, { nodejsCompat: config.nodejsCompat, workersModule, nodeModule });
} catch (err) {
  post({ t: "init-error", error: serializeError(err) });
  throw err;
}
routing.attach(exportsObj, env);

const defaultExport = exportsObj.default as Record<string, unknown> | (new (ctx: unknown, env: unknown) => Record<string, unknown>) | undefined;

/** Finds the handler for an event kind: a method of the default export object or entrypoint class. */
function handlerFor(name: "fetch" | "scheduled", ctx: ExecutionContext): ((...a: unknown[]) => unknown) | undefined {
  if (typeof defaultExport === "function" && defaultExport.prototype instanceof WorkerEntrypoint) {
    const instance = new defaultExport(ctx, env);
    const fn = instance[name];
    return typeof fn === "function" ? (fn as (...a: unknown[]) => unknown).bind(instance) : undefined;
  }
  const fn = defaultExport && typeof defaultExport === "object" ? defaultExport[name] : undefined;
  return typeof fn === "function" ? (fn as (...a: unknown[]) => unknown).bind(defaultExport) : undefined;
}

/** Service-binding calls from other apps (or this one) into this app's entrypoints. */
routing.entrypoints = {
  async fetch(entrypoint, request) {
    const state: InvocationState = { reqId: currentReqId() ?? "service", waitUntil: [] };
    const ctx = new ExecutionContext(state);
    let handler: ((...a: unknown[]) => unknown) | undefined;
    if (entrypoint === undefined) handler = handlerFor("fetch", ctx);
    else {
      const instance = entrypointInstance(entrypoint, ctx);
      const fn = instance.fetch;
      handler = typeof fn === "function" ? (fn as (...a: unknown[]) => unknown).bind(instance) : undefined;
    }
    if (!handler) throw new TypeError(`The entrypoint ${entrypoint ?? "default"} of ${init.appName} does not export a fetch() handler.`);
    try {
      const res = await invocation.run(state, () => handler(request, env, ctx));
      if (!(res instanceof Response)) throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
      return res;
    } finally {
      void settleWaitUntil(state, (err) => logError(err, "ctx.waitUntil"));
    }
  },
  async rpc(entrypoint, method, args) {
    const state: InvocationState = { reqId: currentReqId() ?? "service", waitUntil: [] };
    const ctx = new ExecutionContext(state);
    const instance = entrypointInstance(entrypoint, ctx);
    const fn = method in Object.prototype || method === "constructor" ? undefined : instance[method];
    if (typeof fn !== "function") throw new TypeError(`The RPC receiver does not implement the method "${method}".`);
    try {
      return await invocation.run(state, () => (fn as (...a: unknown[]) => unknown).apply(instance, args));
    } finally {
      void settleWaitUntil(state, (err) => logError(err, "ctx.waitUntil"));
    }
  },
};

function entrypointInstance(entrypoint: string | undefined, ctx: ExecutionContext): Record<string, unknown> {
  const Cls = entrypoint === undefined ? defaultExport : exportsObj[entrypoint];
  if (typeof Cls !== "function" || !(Cls.prototype instanceof WorkerEntrypoint)) {
    throw new TypeError(
      `The entrypoint ${entrypoint ?? "default"} of ${init.appName} does not support RPC: export a class that extends WorkerEntrypoint from "cloudflare:workers".`,
    );
  }
  return new (Cls as new (ctx: unknown, env: unknown) => Record<string, unknown>)(ctx, env);
}

let inflight = 0;
let draining = false;
const streams = new Map<number, ReadableStreamDefaultReader<Uint8Array>>();

function finish(): void {
  inflight--;
  if (draining) maybeIdle();
}
function maybeIdle(): void {
  if (inflight === 0 && !routing.objects.busy) post({ t: "idle" });
}

async function onFetch(rid: number, reqId: string, msg: Extract<HostToIsolate, { t: "fetch" }>): Promise<void> {
  inflight++;
  const state: InvocationState = { reqId, waitUntil: [] };
  const ctx = new ExecutionContext(state);
  try {
    const handler = handlerFor("fetch", ctx);
    if (!handler) throw new Error("Handler does not export a fetch() function.");
    const request = toRequest(msg.req);
    const res = await invocation.run(state, () => handler(request, env, ctx));
    if (!(res instanceof Response)) {
      throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
    }
    const head = responseHead(res, exporter);
    const transfer = head.body instanceof ArrayBuffer ? [head.body] : undefined;
    post({ t: "response", rid, res: head }, transfer);
    if (head.stream) await pump(rid, res.body!);
  } catch (err) {
    // Logged inside the invocation so the line carries the request id, like the user's own logs.
    invocation.run(state, () => logError(err, `Uncaught exception in fetch (${msg.req.method} ${msg.req.url})`));
    post({ t: "error", rid, error: serializeError(err) });
  } finally {
    await settleWaitUntil(state, (err) => invocation.run(state, () => logError(err, "ctx.waitUntil")));
    finish();
  }
}

/**
 * Bytes of one streamed response that may be on their way to the client before the isolate stops
 * reading the body stream: the front door acknowledges chunks once the client's socket took them,
 * so a slow client slows the producer instead of filling the node's memory.
 */
const STREAM_WINDOW_BYTES = 1024 * 1024;

interface Flow {
  unacked: number;
  wake: (() => void) | null;
  cancelled: boolean;
}
const flows = new Map<number, Flow>();

async function pump(rid: number, body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  streams.set(rid, reader);
  const flow: Flow = { unacked: 0, wake: null, cancelled: false };
  flows.set(rid, flow);
  let error: SerializedError | undefined;
  try {
    for (;;) {
      while (flow.unacked > STREAM_WINDOW_BYTES && !flow.cancelled) await new Promise<void>((r) => (flow.wake = r));
      if (flow.cancelled) break;
      const { done, value } = await reader.read();
      if (done) break;
      if (!(value instanceof Uint8Array)) throw new TypeError("A response body stream must produce Uint8Array chunks");
      const data = value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) as ArrayBuffer;
      flow.unacked += data.byteLength;
      post({ t: "chunk", rid, data }, [data]);
    }
  } catch (err) {
    error = serializeError(err);
  } finally {
    streams.delete(rid);
    flows.delete(rid);
  }
  post({ t: "end", rid, error });
}

function wakeFlow(rid: number, ackedBytes: number, cancel: boolean): void {
  const flow = flows.get(rid);
  if (!flow) return;
  flow.unacked -= ackedBytes;
  if (cancel) flow.cancelled = true;
  const wake = flow.wake;
  flow.wake = null;
  wake?.();
}

async function onScheduled(msg: Extract<HostToIsolate, { t: "scheduled" }>): Promise<void> {
  inflight++;
  const state: InvocationState = { reqId: msg.reqId, waitUntil: [] };
  const ctx = new ExecutionContext(state);
  let noRetry = false;
  const controller = {
    cron: msg.cron,
    scheduledTime: msg.scheduledTime,
    type: "scheduled",
    noRetry() {
      noRetry = true;
    },
  };
  let error: SerializedError | undefined;
  try {
    const handler = handlerFor("scheduled", ctx);
    if (!handler) throw new Error("Handler does not export a scheduled() function.");
    await invocation.run(state, () => handler(controller, env, ctx));
  } catch (err) {
    error = serializeError(err);
  }
  await settleWaitUntil(state, (err) => {
    error ??= serializeError(err);
  });
  post({ t: "done", rid: msg.rid, ok: !error, error, noRetry });
  finish();
}

async function onAlarm(msg: Extract<HostToIsolate, { t: "alarm" }>): Promise<void> {
  inflight++;
  try {
    await routing.objects.dispatch(msg.target, { kind: "alarm", retryCount: msg.retryCount, scheduledTime: msg.scheduledTime }, msg.reqId);
    post({ t: "done", rid: msg.rid, ok: true });
  } catch (err) {
    logError(err, `alarm() of ${msg.target.className} ${msg.target.id}`);
    post({ t: "done", rid: msg.rid, ok: false, error: serializeError(err) });
    routing.alarms.failed(msg.target, msg.scheduledTime, msg.retryCount);
  } finally {
    finish();
  }
}

function onSocket(msg: Extract<HostToIsolate, { t: "ws-message" | "ws-close" | "ws-error" }>): void {
  const ws = bridged.get(msg.wsId);
  if (!ws) return;
  const hibernated = ws[kHibernation] !== null;
  if (msg.t === "ws-message") {
    if (hibernated) toObject(ws, { kind: "ws-message", ws, data: msg.data });
    else ws.receiveMessage(msg.data);
  } else if (msg.t === "ws-close") {
    bridged.delete(msg.wsId);
    if (hibernated) {
      ws.readyState = 3;
      toObject(ws, { kind: "ws-close", ws, code: msg.code, reason: msg.reason, wasClean: msg.wasClean });
    } else {
      // receiveClose() sets readyState itself; it ignores sockets that are already CLOSED.
      ws.receiveClose(msg.code, msg.reason, msg.wasClean);
    }
  } else {
    if (hibernated) toObject(ws, { kind: "ws-error", ws, error: new Error(msg.message) });
    else ws.receiveError(msg.message);
  }
}

/** A hibernatable socket's event, counted as in-flight work so a drain waits for its handler. */
function toObject(ws: WebSocket, event: ObjectEvent): void {
  inflight++;
  void routing.objects.socketEvent(ws, event).finally(finish);
}

async function onObjectCall(rid: number, call: ObjectCall, reply: (m: IsolateToHost) => void): Promise<void> {
  inflight++;
  try {
    const value = await routing.serve(call);
    reply({ t: "object-result", rid, ok: true, value });
  } catch (err) {
    reply({ t: "object-result", rid, ok: false, error: serializeError(err) });
  } finally {
    finish();
  }
}

port.on("message", (msg: HostToIsolate | { t: "batch"; msgs: HostToIsolate[] }) => {
  if (msg.t === "batch") for (const m of msg.msgs) onHostMessage(m);
  else onHostMessage(msg);
});

function onHostMessage(msg: HostToIsolate): void {
  switch (msg.t) {
    case "fetch":
      void onFetch(msg.rid, msg.reqId, msg);
      break;
    case "ws-message":
    case "ws-close":
    case "ws-error":
      onSocket(msg);
      break;
    case "ping":
      post({ t: "pong", seq: msg.seq });
      break;
    case "cancel": {
      const reader = streams.get(msg.rid);
      if (reader) reader.cancel().catch(() => {});
      wakeFlow(msg.rid, 0, true);
      break;
    }
    case "ack":
      wakeFlow(msg.rid, msg.bytes, false);
      break;
    case "scheduled":
      void onScheduled(msg);
      break;
    case "alarm":
      void onAlarm(msg);
      break;
    case "object-call":
      void onObjectCall(msg.rid, msg.call, (m) => post(m));
      break;
    case "object-result":
      routing.settle(msg);
      break;
    case "objects-enable":
      routing.objects.enable();
      break;
    case "peer":
      attachPeer(msg.poolIndex, msg.port);
      break;
    case "drain":
      draining = true;
      maybeIdle();
      break;
  }
}

function attachPeer(index: number, p: MessagePort): void {
  peers[index] = p;
  p.on("message", (msg: HostToIsolate | IsolateToHost) => {
    if (msg.t === "object-call") void onObjectCall(msg.rid, msg.call, (m) => p.postMessage(m));
    else if (msg.t === "object-result") routing.settle(msg);
  });
}
for (const [i, p] of peers.entries()) if (p) attachPeer(i, p);

const exportNames = Object.keys(exportsObj).filter((k) => k !== "__esModule");
post({ t: "ready", exports: exportNames, startMs: performance.now() - started });
