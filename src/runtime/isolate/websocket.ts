/**
 * WebSockets inside an isolate: `WebSocketPair`, and the `WebSocket` ends user code holds.
 *
 * A pair starts out connected in memory (client ↔ server). When user code returns the client end in
 * a `Response` with status 101, the client end leaves the isolate: the front door (main thread)
 * holds the real TCP connection and relays frames for the server end by its `wsId`. The server end
 * is then bridged to the host instead of to its in-memory peer. Sockets accepted by a Durable Object
 * with `ctx.acceptWebSocket` carry a hibernation record; their events go to the object's handlers.
 */
import { Buffer } from "node:buffer";
import v8 from "node:v8";
import { kGate, kHibernation, type HibernatableSocket, type HibernationRecord, type OutputGate } from "../../objects/index.js";

export interface WsTransport {
  send(data: string | ArrayBuffer): void;
  close(code: number | undefined, reason: string | undefined): void;
}

export const kTransport = Symbol("ledge.ws.transport");

const MAX_ATTACHMENT_BYTES = 16 * 1024;

export class CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(type: string, init: { code?: number; reason?: string; wasClean?: boolean } = {}) {
    super(type);
    this.code = init.code ?? 1005;
    this.reason = init.reason ?? "";
    this.wasClean = init.wasClean ?? false;
  }
}

export class ErrorEvent extends Event {
  readonly error: unknown;
  readonly message: string;
  constructor(type: string, init: { error?: unknown; message?: string } = {}) {
    super(type);
    this.error = init.error;
    this.message = init.message ?? String(init.error ?? "");
  }
}

/** A frame, close or error that reached an end before it was accepted (kept raw until then). */
type Incoming =
  | { kind: "message"; data: string | ArrayBuffer }
  | { kind: "close"; code: number; reason: string; wasClean: boolean }
  | { kind: "error"; message: string };

let nextSocket = 0;
let isolatePrefix = "i";

export function setSocketIdPrefix(prefix: string): void {
  isolatePrefix = prefix;
}

export class WebSocket extends EventTarget implements HibernatableSocket {
  static readonly READY_STATE_CONNECTING = 0;
  static readonly READY_STATE_OPEN = 1;
  static readonly READY_STATE_CLOSING = 2;
  static readonly READY_STATE_CLOSED = 3;
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readonly wsId: string;
  readyState = 1;
  url: string | null = null;
  protocol: string | null = null;
  extensions: string | null = null;
  binaryType: "arraybuffer" | "blob" = "arraybuffer";

  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  onopen: ((ev: Event) => void) | null = null;

  #accepted = false;
  #transferred = false;
  #pendingEvents: Incoming[] = [];
  #forward: WsTransport | null = null;
  #pendingSends: (() => void)[] = [];
  #attachment: Buffer | null = null;
  [kTransport]: WsTransport | null = null;
  [kHibernation]: HibernationRecord | null = null;
  [kGate]: OutputGate | null = null;

  constructor(urlOrInternal?: unknown) {
    super();
    if (urlOrInternal !== kInternal) {
      throw new Error(
        "Outgoing WebSocket connections (new WebSocket(url)) are not supported yet by Ledge (see docs/compatibility.md)",
      );
    }
    this.wsId = `${isolatePrefix}.${++nextSocket}`;
  }

  /** Starts delivering events to listeners (standard, non-hibernatable API). */
  accept(): void {
    if (this.#transferred) throw new TypeError("This WebSocket end has been returned in a Response and cannot be accepted");
    if (this[kHibernation]) throw new TypeError("This WebSocket was accepted with ctx.acceptWebSocket(); do not call accept()");
    if (this.#accepted) return;
    this.#accepted = true;
    for (const item of this.#pendingEvents.splice(0)) this.#dispatch(this.#toEvent(item));
  }

  get accepted(): boolean {
    return this.#accepted || this[kHibernation] !== null;
  }

  send(message: string | ArrayBuffer | ArrayBufferView): void {
    if (this.readyState >= 2) throw new TypeError("Can't call WebSocket send() after close().");
    if (!this.accepted) throw new TypeError("You must call accept() on this WebSocket before sending messages.");
    let data: string | ArrayBuffer;
    if (typeof message === "string") data = message;
    else if (message instanceof ArrayBuffer) data = message.slice(0);
    else if (ArrayBuffer.isView(message)) {
      data = message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength) as ArrayBuffer;
    } else throw new TypeError("WebSocket send() accepts a string, an ArrayBuffer or an ArrayBufferView");
    this.#output(() => this[kTransport]?.send(data));
  }

  close(code?: number, reason?: string): void {
    if (code !== undefined && !sendableCloseCode(code)) throw new TypeError(`Invalid WebSocket close code: ${code}.`);
    if (reason !== undefined && Buffer.byteLength(reason) > 123) throw new TypeError("WebSocket close reason is longer than 123 bytes");
    if (this.readyState >= 2) return;
    this.readyState = 2;
    this.#output(() => this[kTransport]?.close(code, reason));
  }

  serializeAttachment(value: unknown): void {
    const bytes = v8.serialize(value);
    if (bytes.byteLength > MAX_ATTACHMENT_BYTES) {
      throw new RangeError(`WebSocket attachment is ${bytes.byteLength} bytes; the limit is ${MAX_ATTACHMENT_BYTES} bytes`);
    }
    this.#attachment = bytes;
    if (this[kHibernation]) this[kHibernation].attachment = bytes;
  }

  deserializeAttachment(): unknown {
    const bytes = this[kHibernation]?.attachment ?? this.#attachment;
    return bytes ? v8.deserialize(bytes) : null;
  }

  /** Sends through the output gate (Durable Objects) or straight away; before bridging, queues. */
  #output(fn: () => void): void {
    const run = () => {
      if (this[kTransport]) fn();
      else this.#pendingSends.push(fn);
    };
    const gate = this[kGate];
    if (gate) gate(run);
    else run();
  }

  // ---- Internal: called by the pair / the host bridge ----

  /** Sends without the output gate or the accept check (auto-responses of hibernated objects). */
  sendDirect(data: string): void {
    if (this.readyState < 2) this[kTransport]?.send(data);
  }

  /**
   * Marks this end as handed to the host (returned in a 101 Response). What its peer sent to it in
   * memory before that (a server sending history before returning the Response, or an error and a
   * close) is relayed to `forward`, the peer's bridge, and so is anything still in flight.
   */
  markTransferred(forward?: WsTransport): void {
    this.#transferred = true;
    if (!forward) return;
    this.#forward = forward;
    for (const item of this.#pendingEvents.splice(0)) this.#receive(item);
  }
  get transferred(): boolean {
    return this.#transferred;
  }

  /** Connects this end to where its sends go, flushing sends queued before. */
  attachTransport(t: WsTransport): void {
    this[kTransport] = t;
    const queued = this.#pendingSends;
    this.#pendingSends = [];
    for (const fn of queued) fn();
  }

  receiveMessage(data: string | ArrayBuffer): void {
    if (this.readyState === 3) return;
    this.#receive({ kind: "message", data });
  }

  receiveClose(code: number, reason: string, wasClean: boolean): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.#receive({ kind: "close", code, reason, wasClean });
  }

  receiveError(message: string): void {
    this.#receive({ kind: "error", message });
  }

  #receive(item: Incoming): void {
    const forward = this.#forward;
    if (forward) {
      if (item.kind === "message") forward.send(item.data);
      // 1005 means "no code given"; the bridge then closes with its default.
      else if (item.kind === "close") forward.close(item.code === 1005 ? undefined : item.code, item.reason);
    } else if (this.#accepted) this.#dispatch(this.#toEvent(item));
    else this.#pendingEvents.push(item);
  }

  #toEvent(item: Incoming): Event {
    switch (item.kind) {
      case "message": {
        const data = typeof item.data !== "string" && this.binaryType === "blob" ? new Blob([item.data]) : item.data;
        return new MessageEvent("message", { data });
      }
      case "close":
        return new CloseEvent("close", item);
      case "error":
        return new ErrorEvent("error", { message: item.message, error: new Error(item.message) });
    }
  }

  #dispatch(ev: Event): void {
    const handler =
      ev.type === "message" ? this.onmessage : ev.type === "close" ? this.onclose : ev.type === "error" ? this.onerror : null;
    if (handler) {
      try {
        (handler as (e: Event) => void).call(this, ev);
      } catch (err) {
        reportListenerError(err);
      }
    }
    this.dispatchEvent(ev);
  }
}

/**
 * Close codes a Worker may send. Workers, unlike browsers, let the server send the protocol's own
 * codes (1001 going away, 1011 internal error, ...), so echoing a client's close code works. The
 * reserved ones (1004-1006, 1015) and the unassigned 1016-2999 are refused: `ws` at the front door
 * cannot put them on the wire.
 */
function sendableCloseCode(code: number): boolean {
  return Number.isInteger(code) && ((code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999));
}

const kInternal = Symbol("ledge.ws.internal");

let reportListenerError: (err: unknown) => void = (err) => console.error(err);
export function setListenerErrorReporter(fn: (err: unknown) => void): void {
  reportListenerError = fn;
}

export function createSocket(): WebSocket {
  return new WebSocket(kInternal);
}

/** `new WebSocketPair()`: `{0: client, 1: server}`, connected to each other in memory. */
export class WebSocketPair {
  0: WebSocket;
  1: WebSocket;
  constructor() {
    const client = createSocket();
    const server = createSocket();
    client.attachTransport(memoryTransport(server));
    server.attachTransport(memoryTransport(client));
    this[0] = client;
    this[1] = server;
    pairs.set(client, server);
    onPairCreated?.(client, server);
  }
}

/** client end → server end, so the host bridge can find the end that stays in the isolate. */
const pairs = new WeakMap<WebSocket, WebSocket>();
let onPairCreated: ((client: WebSocket, server: WebSocket) => void) | undefined;
export function setPairHook(fn: (client: WebSocket, server: WebSocket) => void): void {
  onPairCreated = fn;
}

export function serverEndOf(client: WebSocket): WebSocket | undefined {
  return pairs.get(client);
}

function memoryTransport(peer: WebSocket): WsTransport {
  return {
    send: (data) => queueMicrotask(() => peer.receiveMessage(data)),
    close: (code, reason) =>
      queueMicrotask(() => {
        peer.receiveClose(code ?? 1005, reason ?? "", true);
      }),
  };
}
