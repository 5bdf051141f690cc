/**
 * Workers' variants of the fetch classes, built on Node's (undici) implementations:
 * - `Response` accepts status 101 with a `webSocket`, as Workers does for WebSocket upgrades, and
 *   remembers a string/bytes body so the host can send it without reading a stream.
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

export class Response extends NodeResponse {
  #webSocket: LedgeWebSocket | null = null;
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
    super(body, init);
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
