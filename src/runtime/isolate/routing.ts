/**
 * Routes Durable Object calls from user code in this isolate to the object's home: this isolate's
 * ObjectManager, another isolate of the same app (over a direct MessagePort), or the host (objects
 * of another app on the node). Also serves calls arriving from elsewhere.
 */
import type { AppConfig } from "../../config/types.js";
import type { MessagePort } from "node:worker_threads";
import {
  DEFAULT_CALL_DEADLINE_MS,
  lateCallError,
  locateIn,
  namespaceDir,
  namespaceKey,
  objectFile,
  ObjectAlarms,
  ObjectManager,
  ObjectTimers,
  type CallBody,
  type CallRoute,
  type ObjectAddress,
  type ObjectCall,
  type ObjectClassInfo,
  type ObjectRouter,
} from "../../objects/index.js";
import { deserializeError, type SerializedResponse } from "../../shared/wire.js";
import { openObjectStorage } from "../../storage/index.js";
import type { HostToIsolate, IsolateInit, IsolateToHost } from "../protocol.js";
import { currentReqId, invocation, objectScope } from "./context.js";
import type { ServiceRouter } from "./service.js";
import { fromRequest, fromResponse, toRequest, toResponse, type SocketExporter } from "./http.js";
import { DurableObject } from "./workers-module.js";

type Result = Extract<HostToIsolate, { t: "object-result" }> | Extract<IsolateToHost, { t: "object-result" }>;

/** Where a call leaves this isolate for: a peer's port, or the host (port null). */
interface Hop {
  route: CallRoute;
  port: MessagePort | null;
}
const VIA_HOST: Hop = { route: { kind: "host" }, port: null };

export function objectDbPath(persistDir: string, config: AppConfig, a: ObjectAddress): string {
  return objectFile(namespaceDir(persistDir, namespaceKey(a.app, config, a.className)), a.id);
}

/** How an isolate runs its own handlers for service-binding calls. */
export interface EntrypointHost {
  fetch(entrypoint: string | undefined, request: Request): Promise<Response>;
  rpc(entrypoint: string | undefined, method: string, args: unknown[]): Promise<unknown>;
}

export class ObjectRouting implements ObjectRouter, ServiceRouter {
  objects!: ObjectManager;
  readonly #init: IsolateInit;
  readonly #peers: (MessagePort | null)[];
  readonly #hops: Hop[] = [];
  readonly #postToHost: (msg: IsolateToHost) => void;
  /** The objects' alarms: this isolate is their owner (see src/objects/alarms.ts). */
  readonly alarms: ObjectAlarms;
  readonly #exporter: SocketExporter;
  readonly #logError: (err: unknown, where: string) => void;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  readonly #timers = new ObjectTimers();
  #nextRid = 1;

  constructor(
    init: IsolateInit,
    peers: (MessagePort | null)[],
    postToHost: (msg: IsolateToHost) => void,
    exporter: SocketExporter,
    logError: (err: unknown, where: string) => void,
  ) {
    this.#init = init;
    this.#peers = peers;
    this.#postToHost = postToHost;
    this.alarms = new ObjectAlarms(init.persistDir, (target, time) => postToHost({ t: "alarm-set", target, time }));
    this.#exporter = exporter;
    this.#logError = logError;
    // Before the app's code is evaluated, so that every timer it starts is seen.
    this.#timers.install(globalThis, objectScope.currentObjectKey, (key) => this.objects?.timersIdle(key));
  }

  /** Called once the bundle is evaluated: its exported classes become the object classes. */
  attach(exportsObj: Record<string, unknown>, env: Record<string, unknown>): void {
    const config = this.#init.config;
    const classes = new Map<string, ObjectClassInfo>();
    for (const c of config.durableObjectClasses) {
      const ctor = exportsObj[c.className];
      if (typeof ctor !== "function") continue;
      classes.set(c.className, { className: c.className, storageKind: c.storage, ctor: ctor as ObjectClassInfo["ctor"] });
    }
    const deleteAllDeletesAlarm =
      config.compatibilityDate >= "2026-02-24" || config.compatibilityFlags.includes("delete_all_deletes_alarm");
    this.objects = new ObjectManager(
      {
        env,
        classOf: (name) => classes.get(name),
        openStorage: (address, info) =>
          openObjectStorage({
            dbPath: objectDbPath(this.#init.persistDir, config, address),
            storageKind: info.storageKind,
            durability: this.#init.durability,
            deleteAllDeletesAlarm,
            onAlarmChange: (time: number | null) => this.alarms.committed(address, time),
          }),
        idleMs: this.#init.objectIdleMs,
        hibernateIdleMs: this.#init.hibernateIdleMs,
        timers: this.#timers,
        scope: objectScope,
        isDurableObject: (instance) => instance instanceof DurableObject,
        logError: this.#logError,
      },
      this.#init.objectsEnabled,
    );
  }

  /**
   * The next hop of a call to `a`: this isolate, a peer isolate of this app (straight over its
   * port), or the host (objects of another app, or a peer whose port is being replaced).
   */
  #hopTo(a: ObjectAddress): "this-isolate" | Hop {
    if (a.app !== this.#init.appName) return VIA_HOST;
    // The node's directory handed this isolate its app's placement (IsolateInit.placement).
    const route = locateIn(this.#init.placement, a);
    if (route.poolIndex === this.#init.poolIndex) return "this-isolate";
    const port = this.#peers[route.poolIndex];
    if (!port) return VIA_HOST;
    // One Hop per peer, made once: this runs on every call to an object in another isolate.
    let hop = this.#hops[route.poolIndex];
    if (hop?.port !== port) hop = this.#hops[route.poolIndex] = { route, port };
    return hop;
  }

  async fetch(address: ObjectAddress, request: Request): Promise<Response> {
    const hop = this.#hopTo(address);
    const reqId = currentReqId() ?? "internal";
    if (hop === "this-isolate") {
      return (await this.objects.dispatch(address, { kind: "fetch", request }, reqId)) as Response;
    }
    const req = await fromRequest(request);
    const res = (await this.#call(hop, { kind: "fetch", target: address, req })) as SerializedResponse;
    return toResponse(res);
  }

  async rpc(address: ObjectAddress, method: string, args: unknown[]): Promise<unknown> {
    const hop = this.#hopTo(address);
    if (hop === "this-isolate") {
      // Arguments and results are copied, as they are when they cross isolates or nodes.
      const result = await this.objects.dispatch(address, { kind: "rpc", method, args: copyArgs(args) }, currentReqId() ?? "internal");
      return copyValue(result);
    }
    return this.#call(hop, { kind: "rpc", target: address, method, args });
  }

  #call(hop: Hop, body: CallBody): Promise<unknown> {
    const rid = this.#nextRid++;
    // The envelope is added to the body in place: a copy made by spreading costs every call a
    // slower structured clone (measured: several µs per message).
    const call = body as ObjectCall;
    call.reqId = currentReqId();
    call.deadlineAt = Date.now() + DEFAULT_CALL_DEADLINE_MS;
    call.route = hop.route;
    return new Promise((resolve, reject) => {
      this.#pending.set(rid, { resolve, reject });
      if (hop.port) hop.port.postMessage({ t: "object-call", rid, call });
      else this.#postToHost({ t: "object-call", rid, call });
    });
  }

  settle(msg: Result): void {
    const p = this.#pending.get(msg.rid);
    if (!p) return;
    this.#pending.delete(msg.rid);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(deserializeError(msg.error!, { remote: true }));
  }

  /** Set by the isolate's entry: runs this app's own handlers for incoming service calls. */
  entrypoints: EntrypointHost | null = null;

  async serviceFetch(app: string, entrypoint: string | undefined, request: Request): Promise<Response> {
    if (app === this.#init.appName && this.entrypoints) return this.entrypoints.fetch(entrypoint, request);
    const req = await fromRequest(request);
    return toResponse((await this.#call(VIA_HOST, { kind: "service-fetch", app, entrypoint, req })) as SerializedResponse);
  }

  async serviceRpc(app: string, entrypoint: string | undefined, method: string, args: unknown[]): Promise<unknown> {
    if (app === this.#init.appName && this.entrypoints) {
      return copyValue(await this.entrypoints.rpc(entrypoint, method, copyArgs(args)));
    }
    return this.#call(VIA_HOST, { kind: "service-rpc", app, entrypoint, method, args });
  }

  /** Serves a call that arrived from another isolate or the host. */
  async serve(call: ObjectCall): Promise<unknown> {
    const late = lateCallError(call, Date.now());
    if (late) throw late;
    const reqId = call.reqId ?? currentReqId() ?? "remote";
    if (call.kind === "service-fetch" || call.kind === "service-rpc") {
      const entrypoints = this.entrypoints;
      if (!entrypoints) throw new Error("This app is not ready to serve service calls");
      return invocation.run({ reqId, waitUntil: [] }, async () => {
        if (call.kind === "service-fetch") {
          return fromResponse(await entrypoints.fetch(call.entrypoint, toRequest(call.req)), this.#exporter);
        }
        return structuredClone(await entrypoints.rpc(call.entrypoint, call.method, call.args));
      });
    }
    if (call.kind === "fetch") {
      const res = (await this.objects.dispatch(call.target, { kind: "fetch", request: toRequest(call.req) }, reqId)) as Response;
      return fromResponse(res, this.#exporter);
    }
    const result = await this.objects.dispatch(call.target, { kind: "rpc", method: call.method, args: call.args }, reqId);
    // The result crosses threads next. Cloning it here turns a value that cannot cross (a
    // function, say) into this call's DataCloneError; posted as is, it would fail later, with
    // the other messages batched alongside it.
    return structuredClone(result);
  }
}

/**
 * RPC values are copied (structured clone), as they are when they cross isolates or nodes. Most
 * arguments and results are primitives, which need no copy: skipping the clone for them keeps a
 * serializer round trip off every same-isolate call.
 */
function isPlainPrimitive(v: unknown): boolean {
  const t = typeof v;
  return v === null || t === "string" || t === "number" || t === "boolean" || t === "undefined" || t === "bigint";
}

function copyValue<T>(v: T): T {
  return isPlainPrimitive(v) ? v : structuredClone(v);
}

function copyArgs(args: unknown[]): unknown[] {
  return args.every(isPlainPrimitive) ? args.slice() : structuredClone(args);
}
