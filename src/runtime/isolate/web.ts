/**
 * Workers' variants of the fetch classes, built on Node's (undici) implementations:
 * - `Response` accepts status 101 with a `webSocket`, as Workers does for WebSocket upgrades, and
 *   keeps a string/bytes body as given (see `LazyBody` below) so the host can send it without a
 *   stream ever being made.
 * - `Request` carries `cf` and does not demand `duplex: "half"` for streaming bodies.
 * Both keep `instanceof` true for objects made by Node's own `fetch()`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { WebSocket as LedgeWebSocket } from "./websocket.js";

export const kRawBody = Symbol("ledge.rawBody");

const NodeResponse = globalThis.Response;
const NodeRequest = globalThis.Request;
const nodeFetch = globalThis.fetch;

type BodyInit = ConstructorParameters<typeof NodeResponse>[0];
type ResponseInitWithWs = ResponseInit & { webSocket?: LedgeWebSocket | null; encodeBody?: string; cf?: unknown };

type RequestInfo = string | URL | globalThis.Request;

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);
const kLazy = Symbol("ledge.lazyBody");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A string or bytes body kept as given. Node's Response builds a ReadableStream and its
 * controller for every body, ~11 µs per `new Response("…")` measured here against 0.5 µs without
 * a body: on the hello-world path that was a third of the isolate's time. The stream is made only
 * if someone asks for `response.body`; `text()`, `json()`, `arrayBuffer()` and the host's fast path
 * read the value directly.
 */
interface LazyBody {
  value: string | ArrayBuffer | ArrayBufferView;
  used: boolean;
  stream: ReadableStream<Uint8Array> | null;
}

function lazyBytes(v: LazyBody["value"]): Uint8Array {
  if (typeof v === "string") return encoder.encode(v);
  if (v instanceof ArrayBuffer) return new Uint8Array(v.slice(0));
  return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

export class Response extends NodeResponse {
  #webSocket: LedgeWebSocket | null = null;
  [kLazy]: LazyBody | null = null;
  [kRawBody]?: string | ArrayBuffer | ArrayBufferView | null;

  constructor(body?: BodyInit | null, init?: ResponseInitWithWs) {
    let upgrade = false;
    if (init && init.status === 101) {
      if (!init.webSocket) throw new RangeError("Responses with status 101 must have a webSocket");
      upgrade = true;
      init = { ...init, status: 200 };
    } else if (init?.webSocket) {
      throw new TypeError("webSocket can only be returned with status 101");
    }
    const lazy = typeof body === "string" || body instanceof ArrayBuffer || ArrayBuffer.isView(body);
    super(lazy ? null : body, init);
    if (lazy) {
      // What Node's constructor would have checked and added for this body.
      if (NULL_BODY_STATUS.has(init?.status ?? 200)) {
        throw new TypeError(`Response constructor: Invalid response status code ${init!.status}`);
      }
      if (typeof body === "string" && !this.headers.has("content-type")) this.headers.set("content-type", "text/plain;charset=UTF-8");
      this[kLazy] = { value: body as LazyBody["value"], used: false, stream: null };
    }
    if (upgrade) {
      // Node's Response cannot hold status 101; an own property shadows the prototype's getter.
      Object.defineProperty(this, "status", { value: 101, enumerable: false });
      Object.defineProperty(this, "ok", { value: false, enumerable: false });
      this.#webSocket = init!.webSocket!;
    }
    if (body === null || body === undefined || typeof body === "string" || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
      this[kRawBody] = body ?? null;
    }
  }

  get webSocket(): LedgeWebSocket | null {
    return this.#webSocket;
  }

  static override json(data: unknown, init?: ResponseInit): Response {
    const headers = new Headers(init?.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new Response(JSON.stringify(data), { ...init, headers });
  }
  static override redirect(url: string | URL, status = 302): Response {
    if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError(`Invalid redirect status ${status}`);
    return new Response(null, { status, headers: { location: new URL(url).toString() } });
  }
  static override [Symbol.hasInstance](v: unknown): boolean {
    return v instanceof NodeResponse;
  }
}

/**
 * The body members of Response, over a lazy body (Node's typings declare them as fields, so they
 * are installed on the prototype rather than written as overrides in the class).
 */
const base = NodeResponse.prototype;
const baseGet = (name: string) => Object.getOwnPropertyDescriptor(base, name)!.get!;
const baseBody = baseGet("body");
const baseBodyUsed = baseGet("bodyUsed");

function take(r: Response): LazyBody["value"] {
  const lazy = r[kLazy]!;
  if (lazy.used || lazy.stream?.locked) throw new TypeError("Body is unusable: Body has already been read");
  lazy.used = true;
  return lazy.value;
}

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

Object.defineProperties(Response.prototype, {
  body: {
    configurable: true,
    get(this: Response) {
      const lazy = this[kLazy];
      if (!lazy) return baseBody.call(this);
      lazy.stream ??= new ReadableStream<Uint8Array>({
        pull(controller) {
          const bytes = lazyBytes(lazy.value);
          lazy.used = true;
          if (bytes.byteLength > 0) controller.enqueue(bytes);
          controller.close();
        },
      });
      return lazy.stream;
    },
  },
  bodyUsed: {
    configurable: true,
    get(this: Response) {
      return this[kLazy] ? this[kLazy].used : baseBodyUsed.call(this);
    },
  },
  text: {
    configurable: true,
    writable: true,
    value(this: Response): Promise<string> {
      if (!this[kLazy]) return base.text.call(this);
      return settle(() => {
        const v = take(this);
        return typeof v === "string" ? v : decoder.decode(lazyBytes(v));
      });
    },
  },
  json: {
    configurable: true,
    writable: true,
    value(this: Response): Promise<unknown> {
      if (!this[kLazy]) return base.json.call(this);
      return this.text().then((t) => JSON.parse(t));
    },
  },
  arrayBuffer: {
    configurable: true,
    writable: true,
    value(this: Response): Promise<ArrayBuffer> {
      if (!this[kLazy]) return base.arrayBuffer.call(this);
      return settle(() => lazyBytes(take(this)).buffer as ArrayBuffer);
    },
  },
  blob: {
    configurable: true,
    writable: true,
    value(this: Response): Promise<Blob> {
      if (!this[kLazy]) return base.blob.call(this);
      return settle(() => new Blob([lazyBytes(take(this))], { type: this.headers.get("content-type") ?? "" }));
    },
  },
  formData: {
    configurable: true,
    writable: true,
    value(this: Response): Promise<FormData> {
      if (!this[kLazy]) return base.formData.call(this);
      return settle(() => new NodeResponse(lazyBytes(take(this)), { headers: this.headers })).then((r) => r.formData());
    },
  },
  clone: {
    configurable: true,
    writable: true,
    value(this: Response): Response {
      const lazy = this[kLazy];
      if (!lazy || this.webSocket) return base.clone.call(this) as Response;
      if (lazy.used || lazy.stream?.locked) throw new TypeError("Response.clone: Body has already been consumed.");
      return new Response(lazy.value as string, { status: this.status, statusText: this.statusText, headers: this.headers });
    },
  },
});


type RequestInitCf = RequestInit & { cf?: unknown; duplex?: "half" };

export class Request extends NodeRequest {
  cf: unknown;
  constructor(input: RequestInfo | URL, init?: RequestInitCf) {
    if (init && init.body != null && init.duplex === undefined) init = { ...init, duplex: "half" };
    super(input as RequestInfo, init as RequestInit);
    this.cf = init?.cf ?? (input as { cf?: unknown } | undefined)?.cf;
  }
  static override [Symbol.hasInstance](v: unknown): boolean {
    return v instanceof NodeRequest;
  }
}

export function fetch(input: RequestInfo | URL, init?: RequestInitCf): Promise<globalThis.Response> {
  if (init && init.body != null && init.duplex === undefined) init = { ...init, duplex: "half" };
  const upgrade = init?.headers ? new Headers(init.headers).get("upgrade") : input instanceof NodeRequest ? input.headers.get("upgrade") : null;
  if (upgrade && upgrade.toLowerCase() === "websocket") {
    return Promise.reject(new Error("Outgoing WebSocket connections with fetch() are not supported yet by Ledge (see docs/compatibility.md)"));
  }
  return nodeFetch(input as RequestInfo, init as RequestInit);
}

/** A TransformStream of bytes that passes data through unchanged (a Workers global). */
export class IdentityTransformStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor() {
    super({
      transform(chunk, controller) {
        if (!(chunk instanceof Uint8Array)) {
          throw new TypeError("IdentityTransformStream only accepts Uint8Array chunks");
        }
        controller.enqueue(chunk);
      },
    });
  }
}

/** An identity stream that errors unless exactly `length` bytes pass through it. */
export class FixedLengthStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(length: number | bigint) {
    const expected = Number(length);
    if (!Number.isSafeInteger(expected) || expected < 0) throw new TypeError("FixedLengthStream requires a non-negative length");
    let seen = 0;
    super({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > expected) throw new TypeError(`FixedLengthStream received more than ${expected} bytes`);
        controller.enqueue(chunk);
      },
      flush() {
        if (seen !== expected) throw new TypeError(`FixedLengthStream expected ${expected} bytes but received ${seen}`);
      },
    });
  }
}

export const navigator = Object.freeze({
  userAgent: "Cloudflare-Workers",
  hardwareConcurrency: 1,
  language: "en",
  languages: Object.freeze(["en"]),
});

export const scheduler = Object.freeze({
  wait(ms: number, options?: { signal?: AbortSignal }): Promise<void> {
    return sleep(ms, undefined, { signal: options?.signal }) as Promise<void>;
  },
});

export class HTMLRewriter {
  constructor() {
    throw new Error("HTMLRewriter is not supported yet by Ledge (see docs/compatibility.md)");
  }
}
