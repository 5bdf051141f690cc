/**
 * `caches.default` and `caches.open(name)`: the Workers Cache API over a `CacheStore`.
 *
 * This code runs inside an app isolate, where `process`, `Buffer`, `setImmediate` and `global` are
 * removed from `globalThis` before user code runs: everything Node-specific is imported explicitly,
 * and `Request`, `Response` and `Headers` are the realm's own. Arguments from user code are read by
 * shape rather than `instanceof`, so a request built in another realm still works as a key.
 */
import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { LedgeError } from "../shared/errors.js";
import { isNotModified, rangeApplies, selectRanges, type ByteRange, type RangeSelection } from "./conditional.js";
import { planStore } from "./policy.js";
import type { BodySelection, CacheEntryMeta, CacheStore } from "./store.js";

export interface CacheQueryOptions {
  /** Treat the request as a GET whatever its method. */
  ignoreMethod?: boolean;
}

/** What user code may pass as a key: an absolute URL string, a `URL`, or a `Request`. */
export type CacheKey = string | URL | Request;

/** Cloudflare's limit on one cached object; larger bodies are read and dropped, as a 413 would be. */
export const MAX_ENTRY_BODY_BYTES = 512 * 1024 * 1024;

/** workerd refuses names of this many UTF-8 bytes or more. */
export const MAX_CACHE_NAME_BYTES = 1024;

/** Statuses whose responses never carry a body (the `Response` constructor rejects one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

interface KeyRequest {
  key: string;
  method: string;
  headers: Headers;
}

/**
 * Reads the cache key, method and headers out of whatever user code passed. The key is the
 * request's `cf.cacheKey` when it has one (as miniflare does), otherwise its absolute URL.
 */
function toKeyRequest(input: unknown): KeyRequest {
  if (input !== null && typeof input === "object" && typeof (input as { url?: unknown }).url === "string") {
    const request = input as Request & { cf?: { cacheKey?: unknown } };
    const cacheKey = request.cf?.cacheKey;
    const key = typeof cacheKey === "string" && cacheKey !== "" ? cacheKey : absoluteUrl(request.url);
    return { key, method: request.method.toUpperCase(), headers: new Headers(request.headers) };
  }
  return { key: absoluteUrl(String(input)), method: "GET", headers: new Headers() };
}

function absoluteUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError("Invalid URL. Cache API keys must be fully-qualified, valid URLs.");
  }
  if (url.host === "") throw new TypeError("Invalid URL. Cache API keys must be fully-qualified, valid URLs.");
  return url.href;
}

/** Reads a whole body, giving up (and cancelling the stream) once it passes `limit` bytes. */
async function readBody(response: Response, limit: number): Promise<Buffer | undefined> {
  if (response.body === null) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!ArrayBuffer.isView(value)) throw new TypeError("Cache.put() response body chunks must be bytes.");
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(chunks, total);
}

function unimplemented(method: string): LedgeError {
  return new LedgeError(
    "LEDGE_CACHE_UNIMPLEMENTED",
    `Cache.${method}() is not implemented, as on Cloudflare Workers: use cache.put(), cache.match() and cache.delete()`,
  );
}

/** One cache namespace. The methods are the Workers Cache API; nothing else is reachable from it. */
export class WorkersCache {
  readonly #store: CacheStore;
  readonly #namespace: string;

  constructor(store: CacheStore, namespace: string) {
    this.#store = store;
    this.#namespace = namespace;
  }

  /**
   * Stores `response` under `request` if its headers allow it. Throws TypeError for what Cloudflare
   * rejects; resolves to undefined whether or not the response was stored.
   */
  async put(request: CacheKey, response: Response): Promise<undefined> {
    if (response === null || typeof response !== "object" || typeof response.status !== "number") {
      throw new TypeError("Cache.put() needs a Response as its second argument.");
    }
    if (response.type === "error") throw new TypeError("Cache is unable to store an error response");
    const { key, method, headers: requestHeaders } = toKeyRequest(request);
    if (method !== "GET") throw new TypeError("Cannot cache response to non-GET request.");
    if (response.status === 206) {
      throw new TypeError("Cannot cache response to a range request (206 Partial Content).");
    }
    if ((response.headers.get("vary") ?? "").includes("*")) {
      throw new TypeError("Cannot cache response with 'Vary: *' header.");
    }
    if (response.status === 101 || (response as { webSocket?: unknown }).webSocket != null) {
      throw new TypeError("Cannot cache WebSocket upgrade response.");
    }
    // Like workerd, a 304 is dropped without touching its body: caching one would later answer
    // unconditional requests with an empty "not modified".
    if (response.status === 304) return undefined;
    if (response.bodyUsed) throw new TypeError("Cache.put() needs a Response whose body has not been used.");

    // The body is read even when nothing will be stored, so the caller always finds it consumed.
    const limit = Math.min(MAX_ENTRY_BODY_BYTES, this.#store.maxBytes);
    const body = await readBody(response, limit);
    if (body === undefined) return undefined;
    // Freshness is measured from the moment the body is complete, when the entry is written.
    const plan = planStore({
      status: response.status,
      headers: response.headers,
      requestHasAuthorization: requestHeaders.has("authorization"),
      now: this.#store.now(),
    });
    if (!plan.store) return undefined;
    this.#store.put(this.#namespace, key, {
      status: response.status,
      statusText: response.statusText,
      headers: plan.headers,
      body,
      expiresAt: plan.expiresAt,
      initialAgeSec: plan.initialAgeSec,
    });
    return undefined;
  }

  /**
   * Returns the stored response for `request`, or undefined on a miss, an expired entry, or a
   * non-GET request without `ignoreMethod`. Honours `If-None-Match`, `If-Modified-Since` and `Range`.
   */
  async match(request: CacheKey, options?: CacheQueryOptions): Promise<Response | undefined> {
    const { key, method, headers } = toKeyRequest(request);
    if (method !== "GET" && options?.ignoreMethod !== true) return undefined;

    let answer: { kind: "not-modified" } | RangeSelection = { kind: "full" };
    const read = this.#store.read(this.#namespace, key, (meta): BodySelection => {
      const stored = new Headers(meta.headers);
      if (isNotModified(headers, stored)) {
        answer = { kind: "not-modified" };
        return "none";
      }
      // Only a complete 200 can be sliced; any other stored status is sent whole.
      if (meta.status === 200 && rangeApplies(headers, stored)) answer = selectRanges(headers.get("range"), meta.bodySize);
      if (answer.kind === "unsatisfiable") return "none";
      if (answer.kind === "partial" && answer.ranges.length === 1) {
        const only = answer.ranges[0]!;
        return { start: only.start, length: only.end - only.start + 1 };
      }
      return "all";
    });
    if (read === undefined) return undefined;

    const { meta, body } = read;
    const out = new Headers(meta.headers);
    out.set("CF-Cache-Status", "HIT");
    out.set("Age", String(meta.initialAgeSec + Math.max(0, Math.floor((this.#store.now() - meta.storedAt) / 1000))));
    // TypeScript cannot see that the callback above reassigned `answer`, so widen it back.
    const chosen = answer as { kind: "not-modified" } | RangeSelection;
    switch (chosen.kind) {
      case "not-modified":
        out.delete("content-length");
        return new Response(null, { status: 304, headers: out });
      case "unsatisfiable":
        return rangeNotSatisfiable(meta);
      case "partial":
        return partialResponse(meta, out, body, chosen.ranges);
      case "full": {
        const nullBody = NULL_BODY_STATUSES.has(meta.status);
        if (nullBody) out.delete("content-length");
        else out.set("Content-Length", String(meta.bodySize));
        return new Response(nullBody ? null : body, { status: meta.status, statusText: meta.statusText, headers: out });
      }
    }
  }

  /** Removes the entry for `request`; true if there was a live one. */
  async delete(request: CacheKey, options?: CacheQueryOptions): Promise<boolean> {
    const { key, method } = toKeyRequest(request);
    if (method !== "GET" && options?.ignoreMethod !== true) return false;
    return this.#store.delete(this.#namespace, key);
  }

  add(_request: CacheKey): never {
    throw unimplemented("add");
  }

  addAll(_requests: CacheKey[]): never {
    throw unimplemented("addAll");
  }

  matchAll(_request?: CacheKey, _options?: CacheQueryOptions): never {
    throw unimplemented("matchAll");
  }

  keys(_request?: CacheKey, _options?: CacheQueryOptions): never {
    throw unimplemented("keys");
  }
}

function rangeNotSatisfiable(meta: CacheEntryMeta): Response {
  return new Response(null, {
    status: 416,
    headers: { "Content-Range": `bytes */${meta.bodySize}`, "CF-Cache-Status": "HIT" },
  });
}

/**
 * A 206: one range as a plain body with `Content-Range`, several as `multipart/byteranges`
 * (RFC 9110 §14.6). For a single range `body` already holds only the slice.
 */
function partialResponse(meta: CacheEntryMeta, headers: Headers, body: Buffer, ranges: ByteRange[]): Response {
  if (ranges.length === 1) {
    const { start, end } = ranges[0]!;
    headers.set("Content-Range", `bytes ${start}-${end}/${meta.bodySize}`);
    headers.set("Content-Length", String(body.byteLength));
    return new Response(body, { status: 206, headers });
  }
  const boundary = randomUUID().replace(/-/g, "");
  const contentType = headers.get("content-type");
  const parts: Buffer[] = [];
  for (const { start, end } of ranges) {
    const head =
      `--${boundary}\r\n` +
      (contentType === null ? "" : `Content-Type: ${contentType}\r\n`) +
      `Content-Range: bytes ${start}-${end}/${meta.bodySize}\r\n\r\n`;
    parts.push(Buffer.from(head), body.subarray(start, end + 1), Buffer.from("\r\n"));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const multipart = Buffer.concat(parts);
  headers.set("Content-Type", `multipart/byteranges; boundary=${boundary}`);
  headers.set("Content-Length", String(multipart.byteLength));
  return new Response(multipart, { status: 206, headers });
}
