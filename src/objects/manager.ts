/**
 * The Durable Objects living in one isolate: at most one instance per id, created on the first
 * event, fed one event at a time through a mailbox, evicted when idle.
 *
 * Gates. Storage calls never yield to the event loop (see src/storage), and every event starts in
 * its own macrotask (`setImmediate` between deliveries), so while an object awaits its own storage
 * no other event can start: that is the input gate. Results, RPC returns and WebSocket sends wait
 * for `storage.whenDurable()`: that is the output gate. `blockConcurrencyWhile` holds the mailbox.
 */
import { setImmediate, setTimeout, clearTimeout } from "node:timers";
import { objectKey, type ObjectAddress } from "./address.js";
import { ALARM_MAX_RETRIES } from "./alarms.js";
import { CallErrorCode } from "./call.js";
import { DurableObjectId } from "./id.js";
import type { InvocationScope, ObjectInvocation } from "./scope.js";
import { kGate, kHibernation, type HibernatableSocket } from "./socket.js";
import { DurableObjectState, type HibernationState } from "./state.js";
import { userStorageFacade } from "./storage-facade.js";
import type { ObjectTimers } from "./timers.js";

export interface StorageHandle {
  whenDurable(): Promise<void>;
  close(): void;
  /** Drops the writes not committed yet, then closes. */
  abandon(cause: unknown): void;
  getAlarm(): Promise<number | null>;
  deleteAlarm(): Promise<void>;
}

export interface ObjectClassInfo {
  className: string;
  storageKind: "sqlite" | "kv";
  ctor: new (state: DurableObjectState, env: unknown) => Record<string, unknown>;
}

export interface ObjectManagerOptions {
  env: Record<string, unknown>;
  classOf(className: string): ObjectClassInfo | undefined;
  openStorage(address: ObjectAddress, info: ObjectClassInfo): StorageHandle;
  idleMs: number;
  hibernateIdleMs: number;
  /** Timers the objects' code started (see timers.ts). */
  timers: Pick<ObjectTimers, "pending" | "cancelAll">;
  /** The isolate's invocation scope (see scope.ts). */
  scope: InvocationScope;
  /** Whether an instance's class extends `DurableObject` from `cloudflare:workers` (RPC needs it). */
  isDurableObject(instance: object): boolean;
  logError(err: unknown, where: string): void;
}

export type ObjectEvent =
  | { kind: "fetch"; request: Request }
  | { kind: "rpc"; method: string; args: unknown[] }
  | { kind: "alarm"; retryCount: number; scheduledTime: number }
  | { kind: "ws-message"; ws: HibernatableSocket; data: string | ArrayBuffer }
  | { kind: "ws-close"; ws: HibernatableSocket; code: number; reason: string; wasClean: boolean }
  | { kind: "ws-error"; ws: HibernatableSocket; error: Error };

interface Job {
  event: ObjectEvent;
  reqId: string;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** Names an RPC caller may not invoke: lifecycle handlers and Object.prototype members. */
const NOT_RPC = new Set(["constructor", "fetch", "alarm", "webSocketMessage", "webSocketClose", "webSocketError", "ctx", "env"]);

/**
 * Events waiting for one object beyond this are refused with an `overloaded` error, as Cloudflare
 * refuses them ("Too many requests queued"), rather than growing memory without bound.
 */
const MAX_QUEUED_EVENTS = 10_000;

class ObjectEntry {
  instance: Record<string, unknown> | null = null;
  storage: StorageHandle | null = null;
  userStorage: unknown = null;
  mailbox: Job[] = [];
  blocked = 0;
  running = 0;
  /** Immediates queued to deliver events (see #schedule). */
  pumpScheduled = 0;
  idleTimer: NodeJS.Timeout | null = null;
  /** Non-hibernatable sockets accepted inside the object: they pin it in memory. */
  pinned = new Set<HibernatableSocket>();
  gone = false;
  /** Why the constructor failed; the event that tried to start the object is rejected with it. */
  startError: unknown = undefined;
  /** Set when the instance was reset (not evicted): events still running must not deliver results. */
  wasReset = false;
  resetError: unknown = undefined;
  constructor(
    readonly key: string,
    readonly address: ObjectAddress,
    readonly info: ObjectClassInfo,
  ) {}
}

export class ObjectManager {
  readonly #entries = new Map<string, ObjectEntry>();
  readonly #hibernation = new Map<string, HibernationState>();
  readonly #opts: ObjectManagerOptions;
  #enabled: boolean;
  #waiting: (() => void)[] = [];

  constructor(opts: ObjectManagerOptions, enabled: boolean) {
    this.#opts = opts;
    this.#enabled = enabled;
  }

  /** Objects of a new app generation wait until the old generation's instances are gone. */
  enable(): void {
    this.#enabled = true;
    for (const fn of this.#waiting.splice(0)) fn();
  }

  get liveCount(): number {
    return this.#entries.size;
  }

  get busy(): boolean {
    for (const e of this.#entries.values()) if (e.running > 0 || e.mailbox.length > 0) return true;
    return false;
  }

  async dispatch(address: ObjectAddress, event: ObjectEvent, reqId: string): Promise<unknown> {
    if (!this.#enabled) await new Promise<void>((r) => this.#waiting.push(r));
    const entry = this.#entry(address);
    // The constructor threw: the object was reset at once, and this event reports why. The next
    // event constructs it again.
    if (entry.gone) throw entry.startError;
    if (entry.mailbox.length >= MAX_QUEUED_EVENTS) {
      const err = new Error("Durable Object is overloaded. Too many requests queued.") as Error & { code: string; overloaded: boolean; remote: boolean };
      err.code = CallErrorCode.overloaded;
      err.overloaded = true;
      err.remote = true;
      throw err;
    }
    return new Promise((resolve, reject) => {
      entry.mailbox.push({ event, reqId, resolve, reject });
      this.#schedule(entry);
    });
  }

  /**
   * An event for a hibernatable socket; wakes the object unless the auto-response answers it.
   * Settles once the object handled it (handler errors are logged, not thrown).
   */
  socketEvent(ws: HibernatableSocket, event: ObjectEvent): Promise<void> {
    const rec = ws[kHibernation]!;
    const address = rec.address;
    const h = this.#hibernation.get(rec.objectKey);
    if (event.kind === "ws-message" && h?.autoResponse && event.data === h.autoResponse.request) {
      ws.sendDirect(h.autoResponse.response);
      rec.autoResponseAt = new Date();
      return Promise.resolve();
    }
    if (event.kind === "ws-close") h?.sockets.delete(ws);
    const handled = this.dispatch(address, event, `ws-${ws.wsId}`).then(
      () => undefined,
      (err) => this.#opts.logError(err, "webSocket handler"),
    );
    if (h && h.sockets.size === 0 && !this.#entries.has(rec.objectKey)) this.#hibernation.delete(rec.objectKey);
    return handled;
  }

  #entry(address: ObjectAddress): ObjectEntry {
    const key = objectKey(address);
    let e = this.#entries.get(key);
    if (e) {
      if (address.name && !e.address.name) e.address.name = address.name;
      return e;
    }
    const info = this.#opts.classOf(address.className);
    if (!info) throw new TypeError(`No Durable Object class "${address.className}" is exported by this app`);
    e = new ObjectEntry(key, { ...address }, info);
    this.#entries.set(key, e);
    this.#construct(e);
    return e;
  }

  #construct(e: ObjectEntry): void {
    const id = new DurableObjectId(e.address.id, e.address.name);
    const state = new DurableObjectState(id, {
      objectKey: e.key,
      address: e.address,
      storage: () => this.#userStorage(e),
      blockConcurrencyWhile: (fn) => this.#block(e, fn),
      abort: (reason) => {
        const err = reason instanceof Error ? reason : new Error(reason === undefined ? "Durable Object was aborted" : String(reason));
        // A hard reset: unlike other resets, the writes of the aborting turn are not committed.
        this.#reset(e, err, { discardWrites: true });
        throw err;
      },
      hibernation: () => this.#hibernationOf(e.key),
      unpin: (ws) => {
        e.pinned.delete(ws);
      },
      gate: () => this.#gate(e),
    });
    const inv: ObjectInvocation = { reqId: "ctor", waitUntil: [], objectKey: e.key };
    try {
      e.instance = this.#opts.scope.run(inv, () => new e.info.ctor(state, this.#opts.env));
    } catch (err) {
      markRemote(err);
      e.startError = err;
      this.#reset(e, err);
    }
  }

  #storage(e: ObjectEntry): StorageHandle {
    if (e.gone) throw new Error("This Durable Object instance was reset; its storage is no longer reachable");
    if (!e.storage) e.storage = this.#opts.openStorage(e.address, e.info);
    return e.storage;
  }

  /** `ctx.storage` as user code sees it (see storage-facade.ts). */
  #userStorage(e: ObjectEntry): unknown {
    if (e.userStorage) return e.userStorage;
    e.userStorage = userStorageFacade(this.#storage(e), (fn) => this.#hold(e, fn));
    return e.userStorage;
  }

  /** Holds the mailbox while `fn` runs (no reset on failure, unlike blockConcurrencyWhile). */
  async #hold<T>(e: ObjectEntry, fn: () => Promise<T>): Promise<T> {
    e.blocked++;
    try {
      return await fn();
    } finally {
      e.blocked--;
      this.#schedule(e);
    }
  }

  #hibernationOf(key: string): HibernationState {
    let h = this.#hibernation.get(key);
    if (!h) {
      h = { sockets: new Set(), autoResponse: null, eventTimeoutMs: null };
      this.#hibernation.set(key, h);
    }
    return h;
  }

  /**
   * The output gate for sends on a socket the object holds. A hibernatable socket outlives the
   * instance that accepted it (eviction, reset), so once that instance is gone its sends are gated
   * by the object's current instance, the one whose code is sending.
   */
  #gate(e: ObjectEntry): (fn: () => void) => void {
    return (fn) => {
      const s = e.gone ? this.#entries.get(e.key)?.storage : e.storage;
      if (!s) return fn();
      s.whenDurable().then(fn, () => {});
    };
  }

  async #block<T>(e: ObjectEntry, fn: () => Promise<T> | T): Promise<T> {
    e.blocked++;
    try {
      return await fn();
    } catch (err) {
      markRemote(err);
      this.#reset(e, err);
      throw err;
    } finally {
      e.blocked--;
      this.#schedule(e);
    }
  }

  /**
   * One immediate per deliverable event. Node drains the microtask queue between two immediate
   * callbacks, so every event still starts only after the previous one's storage continuations
   * ran (the input gate), yet all events waiting at one turn of the loop start in that turn's
   * check phase, instead of one event per turn (which capped a hot object at the loop's rate).
   */
  #schedule(e: ObjectEntry): void {
    if (e.gone || e.blocked > 0) return;
    while (e.pumpScheduled < e.mailbox.length) {
      e.pumpScheduled++;
      setImmediate(() => {
        e.pumpScheduled--;
        this.#pump(e);
      });
    }
  }

  #pump(e: ObjectEntry): void {
    if (e.gone || e.blocked > 0) return;
    const job = e.mailbox.shift();
    if (!job) return;
    this.#run(e, job);
  }

  async #run(e: ObjectEntry, job: Job): Promise<void> {
    e.running++;
    if (e.idleTimer) {
      clearTimeout(e.idleTimer);
      e.idleTimer = null;
    }
    const inv: ObjectInvocation = { reqId: job.reqId, waitUntil: [], objectKey: e.key };
    try {
      const result = await this.#opts.scope.run(inv, () => this.#invoke(e, job.event));
      if (e.storage) await e.storage.whenDurable();
      // The instance was reset while this event awaited something else (another event's commit
      // failed, or ctx.abort()): its writes may have gone down with the batch, so its result is
      // not released either.
      if (e.wasReset) return job.reject(e.resetError);
      job.resolve(result);
    } catch (err) {
      markRemote(err);
      if (e.storage && !e.gone) {
        // A failed commit breaks the object: the caller sees the error and the next event gets a
        // fresh instance that reads storage again.
        try {
          await e.storage.whenDurable();
        } catch (commitErr) {
          this.#reset(e, commitErr);
          job.reject(commitErr);
          return;
        }
      }
      job.reject(err);
    } finally {
      e.running--;
      void this.#opts.scope.settle(inv, (err) => this.#opts.logError(err, "ctx.waitUntil"));
      this.#maybeIdle(e);
    }
  }

  async #invoke(e: ObjectEntry, ev: ObjectEvent): Promise<unknown> {
    const obj = e.instance;
    if (!obj) throw new Error("Durable Object failed to start");
    switch (ev.kind) {
      case "fetch": {
        const fetch = obj.fetch;
        if (typeof fetch !== "function") throw new TypeError("Handler does not export a fetch() function.");
        const res = await fetch.call(obj, ev.request);
        if (!(res instanceof Response)) {
          throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
        }
        return res;
      }
      case "rpc": {
        if (!this.#opts.isDurableObject(obj)) {
          throw new TypeError(
            "The receiving Durable Object does not support RPC, because its class was not declared with `extends DurableObject`.",
          );
        }
        const member = NOT_RPC.has(ev.method) || ev.method.startsWith("#") ? undefined : obj[ev.method];
        if (member === undefined || ev.method in Object.prototype) {
          throw new TypeError(`The RPC receiver does not implement the method "${ev.method}".`);
        }
        if (typeof member !== "function") return member;
        return await (member as (...a: unknown[]) => unknown).apply(obj, ev.args);
      }
      case "alarm": {
        const alarm = obj.alarm;
        const storage = this.#storage(e);
        if (typeof alarm === "function") {
          try {
            await alarm.call(obj, { retryCount: ev.retryCount, isRetry: ev.retryCount > 0 });
          } catch (err) {
            // After the last retry the alarm is dropped (see alarms.ts), so getAlarm() must stop
            // reporting it (unless the handler set a new one before it threw).
            if (ev.retryCount >= ALARM_MAX_RETRIES && !e.gone && (await storage.getAlarm()) === ev.scheduledTime) {
              await storage.deleteAlarm();
            }
            throw err;
          }
        }
        // Clear the alarm unless the handler set a new one while it ran.
        if ((await storage.getAlarm()) === ev.scheduledTime) await storage.deleteAlarm();
        return undefined;
      }
      case "ws-message": {
        const fn = obj.webSocketMessage;
        if (typeof fn === "function") await fn.call(obj, ev.ws, ev.data);
        return undefined;
      }
      case "ws-close": {
        const fn = obj.webSocketClose;
        if (typeof fn === "function") await fn.call(obj, ev.ws, ev.code, ev.reason, ev.wasClean);
        return undefined;
      }
      case "ws-error": {
        const fn = obj.webSocketError;
        if (typeof fn === "function") await fn.call(obj, ev.ws, ev.error);
        return undefined;
      }
    }
  }

  /**
   * A WebSocketPair was created while this object handled an event: its server end sends through
   * the object's output gate, and pins the object in memory until it closes (unless it is later
   * accepted with `ctx.acceptWebSocket`, which makes it hibernatable).
   */
  adopt(key: string, ws: HibernatableSocket): void {
    const e = this.#entries.get(key);
    if (!e) return;
    ws[kGate] = this.#gate(e);
    e.pinned.add(ws);
    ws.addEventListener("close", () => {
      e.pinned.delete(ws);
      this.#maybeIdle(e);
    });
  }

  #maybeIdle(e: ObjectEntry): void {
    if (e.gone || e.running > 0 || e.mailbox.length > 0 || e.blocked > 0 || e.pinned.size > 0) return;
    const h = this.#hibernation.get(e.key);
    // Pending timers keep an object from hibernating (its next event would find it gone while
    // they still run); it is evicted after the ordinary idle time instead, its timers cancelled.
    const hibernatable = h !== undefined && h.sockets.size > 0 && !this.#opts.timers.pending(e.key);
    const ms = hibernatable ? this.#opts.hibernateIdleMs : this.#opts.idleMs;
    if (e.idleTimer) clearTimeout(e.idleTimer);
    e.idleTimer = setTimeout(() => this.#evict(e), ms);
    e.idleTimer.unref();
  }

  #evict(e: ObjectEntry): void {
    if (e.running > 0 || e.mailbox.length > 0) return;
    this.#drop(e);
  }

  #reset(e: ObjectEntry, err: unknown, opts: { discardWrites?: boolean } = {}): void {
    if (e.gone) return;
    e.wasReset = true;
    e.resetError = err;
    if (opts.discardWrites) {
      try {
        e.storage?.abandon(err);
      } catch (closeErr) {
        this.#opts.logError(closeErr, "abandoning object storage");
      }
    }
    this.#drop(e);
    for (const job of e.mailbox.splice(0)) job.reject(err);
  }

  #drop(e: ObjectEntry): void {
    e.gone = true;
    this.#opts.timers.cancelAll(e.key);
    if (e.idleTimer) clearTimeout(e.idleTimer);
    if (this.#entries.get(e.key) === e) this.#entries.delete(e.key);
    const h = this.#hibernation.get(e.key);
    if (h && h.sockets.size === 0) this.#hibernation.delete(e.key);
    try {
      e.storage?.close();
    } catch (err) {
      this.#opts.logError(err, "closing object storage");
    }
    e.storage = null;
    e.userStorage = null;
    e.instance = null;
  }

  /** The object's last pending timer fired or was cleared: it may hibernate now. */
  timersIdle(key: string): void {
    const e = this.#entries.get(key);
    if (e) this.#maybeIdle(e);
  }

  /** Closes every object's storage (isolate shutting down). */
  closeAll(): void {
    for (const e of [...this.#entries.values()]) this.#drop(e);
  }
}

function markRemote(err: unknown): void {
  if (err && typeof err === "object") {
    try {
      (err as { remote?: boolean }).remote = true;
    } catch {
      // Frozen errors keep their own flags.
    }
  }
}
