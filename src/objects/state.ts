/**
 * `DurableObjectState`, the `ctx` a Durable Object class receives: its id, its storage,
 * `blockConcurrencyWhile`, and the hibernatable WebSocket API.
 */
import type { ObjectAddress } from "./address.js";
import type { DurableObjectId } from "./id.js";
import { kGate, kHibernation, type HibernatableSocket } from "./socket.js";

export class WebSocketRequestResponsePair {
  readonly request: string;
  readonly response: string;
  constructor(request: string, response: string) {
    if (typeof request !== "string" || typeof response !== "string") {
      throw new TypeError("WebSocketRequestResponsePair expects two strings");
    }
    if (request.length > 2048 || response.length > 2048) {
      throw new RangeError("WebSocketRequestResponsePair request and response must be at most 2,048 characters");
    }
    this.request = request;
    this.response = response;
  }
}

/** What a hibernating object keeps while its instance is evicted. */
export interface HibernationState {
  sockets: Set<HibernatableSocket>;
  autoResponse: WebSocketRequestResponsePair | null;
  eventTimeoutMs: number | null;
}

/** The parts of the object manager the state object calls back into. */
export interface StateHost {
  storage(): unknown;
  blockConcurrencyWhile<T>(fn: () => Promise<T> | T): Promise<T>;
  abort(reason?: unknown): never;
  hibernation(): HibernationState;
  unpin(ws: HibernatableSocket): void;
  gate(): (fn: () => void) => void;
  objectKey: string;
  address: ObjectAddress;
}

const MAX_TAGS = 10;
const MAX_TAG_LENGTH = 256;
const MAX_SOCKETS = 32_768;

export class DurableObjectState {
  readonly id: DurableObjectId;
  readonly props: Record<string, unknown> = {};
  readonly #host: StateHost;
  constructor(id: DurableObjectId, host: StateHost) {
    this.id = id;
    this.#host = host;
  }

  get storage(): unknown {
    return this.#host.storage();
  }

  blockConcurrencyWhile<T>(callback: () => Promise<T> | T): Promise<T> {
    return this.#host.blockConcurrencyWhile(callback);
  }

  /** The object already lives while it has work; accepted for compatibility. */
  waitUntil(promise: Promise<unknown>): void {
    Promise.resolve(promise).catch(() => {});
  }

  abort(reason?: unknown): never {
    return this.#host.abort(reason);
  }

  acceptWebSocket(ws: HibernatableSocket, tags: string[] = []): void {
    if (!ws || typeof ws.accept !== "function") throw new TypeError("acceptWebSocket() expects a WebSocket");
    if (ws.transferred) throw new TypeError("Cannot accept a WebSocket end that was returned in a Response; accept the server end");
    if (ws.accepted) throw new TypeError("This WebSocket has already been accepted");
    if (!Array.isArray(tags) || tags.length > MAX_TAGS) throw new TypeError(`A WebSocket can have at most ${MAX_TAGS} tags`);
    for (const t of tags) {
      if (typeof t !== "string" || t.length > MAX_TAG_LENGTH) {
        throw new TypeError(`WebSocket tags must be strings of at most ${MAX_TAG_LENGTH} characters`);
      }
    }
    const h = this.#host.hibernation();
    if (h.sockets.size >= MAX_SOCKETS) throw new RangeError(`A Durable Object can accept at most ${MAX_SOCKETS} WebSockets`);
    const existing = ws.deserializeAttachment();
    ws[kHibernation] = {
      objectKey: this.#host.objectKey,
      address: this.#host.address,
      tags: [...tags],
      attachment: null,
      autoResponseAt: null,
    };
    if (existing !== null) ws.serializeAttachment(existing);
    ws[kGate] = this.#host.gate();
    this.#host.unpin(ws);
    h.sockets.add(ws);
  }

  getWebSockets(tag?: string): HibernatableSocket[] {
    const out: HibernatableSocket[] = [];
    for (const ws of this.#host.hibernation().sockets) {
      if (ws.readyState === 3) continue;
      if (tag === undefined || ws[kHibernation]!.tags.includes(tag)) out.push(ws);
    }
    return out;
  }

  getTags(ws: HibernatableSocket): string[] {
    const rec = ws?.[kHibernation];
    if (!rec || rec.objectKey !== this.#host.objectKey) {
      throw new TypeError("getTags() requires a WebSocket accepted with this object's ctx.acceptWebSocket()");
    }
    return [...rec.tags];
  }

  setWebSocketAutoResponse(pair?: WebSocketRequestResponsePair): void {
    if (pair !== undefined && !(pair instanceof WebSocketRequestResponsePair)) {
      throw new TypeError("setWebSocketAutoResponse() expects a WebSocketRequestResponsePair");
    }
    this.#host.hibernation().autoResponse = pair ?? null;
  }

  getWebSocketAutoResponse(): WebSocketRequestResponsePair | null {
    return this.#host.hibernation().autoResponse;
  }

  getWebSocketAutoResponseTimestamp(ws: HibernatableSocket): Date | null {
    return ws?.[kHibernation]?.autoResponseAt ?? null;
  }

  setHibernatableWebSocketEventTimeout(timeoutMs?: number): void {
    if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || timeoutMs < 0 || timeoutMs > 604_800_000)) {
      throw new RangeError("The hibernatable WebSocket event timeout must be between 0 and 604,800,000 ms");
    }
    this.#host.hibernation().eventTimeoutMs = timeoutMs ? timeoutMs : null;
  }

  getHibernatableWebSocketEventTimeout(): number | null {
    return this.#host.hibernation().eventTimeoutMs;
  }
}
