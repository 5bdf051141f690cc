/**
 * One app on this node: its pool of isolates (a "generation" per version of its code), picking an
 * isolate per request, replacing isolates that die, and swapping generations on reload.
 *
 * Reload keeps "one live instance per object": the new generation serves stateless requests at
 * once, but its Durable Objects start only after every isolate of the old generation has finished
 * its in-flight work and exited.
 */
import { MessageChannel, type MessagePort } from "node:worker_threads";
import type { AppConfig } from "../config/types.js";
import { CallErrorCode, type CallResult, type ObjectAddress, type ObjectCall, type ObjectDirectory } from "../objects/index.js";
import { IsolateHandle, type FetchSink, type IsolateEvents } from "./isolate-handle.js";
import type { HostToIsolate, IsolateInit } from "./protocol.js";
import type { SerializedError, SerializedRequest } from "../shared/wire.js";
import { LedgeError } from "../shared/errors.js";

export interface AppRuntimeOptions {
  persistDir: string;
  colo: string;
  dev: boolean;
  durability: "full" | "normal";
  objectIdleMs: number;
  hibernateIdleMs: number;
  cacheMaxBytes: number;
  /** Isolates per app (stateless requests are spread over them; the directory places objects). */
  poolSize: number;
  /** How long a draining generation may take to finish in-flight work before it is terminated. */
  drainMs: number;
}

export interface IsolateProvider {
  takeIsolate(memoryMb: number): IsolateHandle;
  events: IsolateEvents;
  /** The node's placement authority. */
  directory: ObjectDirectory;
  log(line: string): void;
}

class Generation {
  readonly isolates: IsolateHandle[] = [];
  rr = 0;
  constructor(
    readonly seq: number,
    readonly config: AppConfig,
    readonly code: string,
  ) {}
}

export class AppHost {
  readonly name: string;
  /** Isolates in each generation's pool, fixed for the app's life on this node. */
  readonly poolSize: number;
  #gen: Generation | null = null;
  #seq = 0;
  #opts: AppRuntimeOptions;
  #provider: IsolateProvider;
  /** Old generations still draining; objects of the current one wait for them. */
  #draining = new Set<Promise<void>>();
  lastStartMs = 0;

  constructor(name: string, opts: AppRuntimeOptions, provider: IsolateProvider) {
    this.name = name;
    this.#opts = opts;
    this.#provider = provider;
    this.poolSize = Math.max(1, opts.poolSize);
  }

  get config(): AppConfig | undefined {
    return this.#gen?.config;
  }

  get isolates(): readonly IsolateHandle[] {
    return this.#gen?.isolates ?? [];
  }

  /**
   * Starts a generation for `code`. Resolves as soon as one isolate evaluated it (the others join
   * the pool as they become ready; events for objects placed on them queue until then), rejects on
   * a start-up error.
   */
  async deploy(config: AppConfig, code: string): Promise<void> {
    const gen = new Generation(++this.#seq, config, code);
    const size = this.poolSize;
    const objectsEnabled = this.#draining.size === 0 && this.#gen === null;
    const handles: IsolateHandle[] = [];
    for (let i = 0; i < size; i++) handles.push(this.#provider.takeIsolate(config.limits.memoryMb));
    const channels = pairChannels(size);
    handles.forEach((h, i) => {
      h.init(this.#initFor(gen, i, objectsEnabled), channels[i]!, this.#provider.events);
      gen.isolates.push(h);
    });
    try {
      const first = await Promise.any(handles.map((h) => h.ready));
      this.lastStartMs = first.startMs;
      assertClassesExported(config, first.exports);
    } catch (err) {
      for (const h of handles) h.kill({ name: "Error", message: "start-up failed" });
      throw startupError(err instanceof AggregateError ? err.errors[0] : err);
    }
    const old = this.#gen;
    this.#gen = gen;
    if (old) this.#retire(old, gen);
  }

  #initFor(gen: Generation, poolIndex: number, objectsEnabled: boolean): IsolateInit {
    const o = this.#opts;
    return {
      isolateId: "",
      poolIndex,
      placement: this.#provider.directory.placementOf(this.name),
      appName: this.name,
      code: gen.code,
      config: gen.config,
      persistDir: o.persistDir,
      colo: o.colo,
      dev: o.dev,
      objectsEnabled,
      durability: o.durability,
      objectIdleMs: o.objectIdleMs,
      hibernateIdleMs: o.hibernateIdleMs,
      cacheMaxBytes: o.cacheMaxBytes,
    };
  }

  /** Lets the old generation finish its work, stops it, then lets the new one start objects. */
  #retire(old: Generation, next: Generation): void {
    const drained = (async () => {
      await Promise.all(old.isolates.map((h) => drainIsolate(h, this.#opts.drainMs)));
    })();
    this.#draining.add(drained);
    void drained.finally(() => {
      this.#draining.delete(drained);
      if (this.#draining.size === 0 && this.#gen === next) {
        for (const h of next.isolates) h.post({ t: "objects-enable" });
      }
    });
  }

  /**
   * Picks the ready isolate with the least work, round-robin among equals. When none is ready (the
   * only one is a replacement still booting), a booting one takes the request: it queues there
   * until the isolate is up, which beats answering 503 while it boots.
   */
  #pick(): IsolateHandle | undefined {
    const gen = this.#gen;
    if (!gen) return undefined;
    const list = gen.isolates;
    const n = list.length;
    let best: IsolateHandle | undefined;
    let booting: IsolateHandle | undefined;
    for (let k = 0; k < n; k++) {
      const h = list[(gen.rr + k) % n]!;
      if (h.dead) continue;
      if (!h.isReady) {
        booting ??= h;
        continue;
      }
      if (!best || h.inflight < best.inflight) best = h;
      if (h.inflight === 0) break;
    }
    gen.rr = (gen.rr + 1) % n;
    return best ?? booting;
  }

  fetch(req: SerializedRequest, reqId: string, sink: FetchSink): { isolate: IsolateHandle; rid: number } | null {
    const h = this.#pick();
    if (!h) {
      sink.fail({ name: "Error", message: `App ${this.name} has no running isolate`, code: "LEDGE_NO_ISOLATE" }, 503);
      return null;
    }
    return { isolate: h, rid: h.fetch({ reqId, req }, sink) };
  }

  async run(msg: Extract<HostToIsolate, { t: "scheduled" }>): Promise<{ ok: boolean; error?: SerializedError; noRetry?: boolean }> {
    const h = this.#pick();
    if (!h) return { ok: false, error: { name: "Error", message: "no running isolate" } };
    return h.run(msg);
  }

  #objectIsolate(a: ObjectAddress): IsolateHandle | undefined {
    const gen = this.#gen;
    if (!gen) return undefined;
    const route = this.#provider.directory.locate(a);
    return gen.isolates[route.poolIndex];
  }

  async alarm(msg: Extract<HostToIsolate, { t: "alarm" }>): Promise<{ ok: boolean; error?: SerializedError }> {
    const h = this.#objectIsolate(msg.target);
    if (!h || h.dead) return { ok: false, error: { name: "Error", message: "object's isolate is not running", code: CallErrorCode.notRunning } };
    return h.run(msg);
  }

  async objectCall(call: ObjectCall): Promise<CallResult> {
    // Service calls are stateless: any isolate of the pool; object calls go to the object's home.
    const h = call.kind === "service-fetch" || call.kind === "service-rpc" ? this.#pick() : this.#objectIsolate(call.target);
    if (!h || h.dead) {
      return { ok: false, error: { name: "Error", message: `App ${this.name} is not running`, code: CallErrorCode.notRunning, retryable: true } };
    }
    // The next hop: the isolate this host picked.
    call.route = { kind: "isolate", poolIndex: h.poolIndex };
    return h.call({ t: "object-call", rid: 0, call });
  }

  /** Replaces an isolate of the current generation that died (CPU limit, memory limit, crash). */
  replace(dead: IsolateHandle): void {
    const gen = this.#gen;
    if (!gen) return;
    const idx = gen.isolates.indexOf(dead);
    if (idx < 0) return;
    const fresh = this.#provider.takeIsolate(gen.config.limits.memoryMb);
    const peers: (MessagePort | null)[] = gen.isolates.map(() => null);
    gen.isolates.forEach((other, j) => {
      if (j === idx || other.dead) return;
      const { port1, port2 } = new MessageChannel();
      peers[j] = port1;
      other.post({ t: "peer", poolIndex: idx, port: port2 }, [port2]);
    });
    fresh.init(this.#initFor(gen, idx, this.#draining.size === 0), peers, this.#provider.events);
    gen.isolates[idx] = fresh;
    fresh.ready.catch((err: SerializedError) => this.#provider.log(`[${this.name}] replacement isolate failed to start: ${err.message}`));
  }

  async stop(): Promise<void> {
    const gen = this.#gen;
    this.#gen = null;
    if (gen) await Promise.all(gen.isolates.map((h) => drainIsolate(h, this.#opts.drainMs)));
    await Promise.all(this.#draining);
  }
}

/**
 * Cloudflare refuses to deploy a Worker whose config declares a Durable Object class (migrations
 * or `exports`) that its entry module does not export; without this check the mistake would only
 * show on the first call to the object.
 */
/**
 * Isolates report start-up failures as plain data (SerializedError); callers print `.message`, so
 * turn them into an Error. The user's own stack was already logged by the isolate.
 */
function startupError(err: unknown): Error {
  if (err instanceof Error) return err;
  const s = err as SerializedError;
  return new LedgeError(s.code ?? "LEDGE_STARTUP", `The Worker failed to start: ${s.name}: ${s.message}`);
}

function assertClassesExported(config: AppConfig, exported: string[]): void {
  const missing = config.durableObjectClasses.map((c) => c.className).filter((name) => !exported.includes(name));
  if (missing.length === 0) return;
  const list = missing.map((n) => `"${n}"`).join(", ");
  const one = missing.length === 1;
  throw new LedgeError(
    "LEDGE_DO_CLASS_NOT_EXPORTED",
    `Durable Object class${one ? "" : "es"} ${list} ${one ? "is" : "are"} declared in the config but not exported by ${config.main}. ` +
      `Export ${one ? "it" : "them"} from the entry module, or delete ${one ? "it" : "them"} with a migration (deleted_classes).`,
  );
}

/** Full mesh of MessageChannels: `result[i][j]` is isolate i's port to isolate j. */
function pairChannels(n: number): (MessagePort | null)[][] {
  const out: (MessagePort | null)[][] = Array.from({ length: n }, () => Array<MessagePort | null>(n).fill(null));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const { port1, port2 } = new MessageChannel();
      out[i]![j] = port1;
      out[j]![i] = port2;
    }
  }
  return out;
}

async function drainIsolate(h: IsolateHandle, timeoutMs: number): Promise<void> {
  if (h.dead) return;
  await h.drain(timeoutMs);
  await h.worker.terminate();
}
