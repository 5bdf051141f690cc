/**
 * The Workers KV binding (`env.MY_KV`), backed by a `KvStore` on this node.
 *
 * Where it runs: inside an app's worker thread, handed to user code. Node's free globals
 * (`process`, `Buffer`, `setImmediate`, `global`) are deleted there, so this file uses only the
 * realm's web globals (`ReadableStream`, `TextEncoder`, `TextDecoder`) and explicit imports.
 *
 * Every method is `async`: like workerd, argument errors reject the returned promise instead of
 * throwing synchronously.
 *
 * Deliberate differences from Cloudflare (see docs/compatibility.md):
 * - Reads are always fresh on a node: a `put` is visible to the next `get` on any connection.
 *   `cacheTtl` is validated (>= 30) and otherwise ignored, and `cacheStatus` is always null.
 * - The one-write-per-second-per-key limit (429) is not enforced; the last write wins.
 */
import {
  KV_LIMITS,
  kvServiceError,
  normalizeListLimit,
  validateCacheTtl,
  validateKey,
  validatePrefix,
  validatePutOptions,
  valueTooLarge,
  type KvMethod,
  type PutOptionsInput,
} from "./limits.js";
import { decodeCursor, type KvEntry, type KvStore } from "./store.js";

export type KvValueType = "text" | "json" | "arrayBuffer" | "stream";
export type KvGetOptions = { type?: KvValueType; cacheTtl?: number };
export type KvPutValue = string | ArrayBuffer | ArrayBufferView | ReadableStream;

export interface KvGetWithMetadataResult<V = unknown> {
  value: V | null;
  metadata: unknown;
  cacheStatus: null;
}

export interface KvListResultKey {
  name: string;
  /** Epoch seconds; absent for keys that never expire. */
  expiration?: number;
  /** Absent when the key has no metadata. */
  metadata?: unknown;
}

export interface KvListResult {
  keys: KvListResultKey[];
  list_complete: boolean;
  /** Present only when `list_complete` is false. */
  cursor?: string;
  cacheStatus: null;
}

export interface KVNamespaceOptions {
  /** Current time in epoch milliseconds. Default: the store's clock. */
  clock?: () => number;
}

const UNKNOWN_TYPE =
  'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".';
const BAD_PUT_VALUE = "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.";

const encoder = new TextEncoder();

/** Example: `env.MY_KV = new KVNamespace(new KvStore(kvDbPath(persistDir, "MY_KV")))`. */
export class KVNamespace {
  readonly #store: KvStore;
  readonly #clock: () => number;

  constructor(store: KvStore, opts: KVNamespaceOptions = {}) {
    this.#store = store;
    this.#clock = opts.clock ?? store.clock;
  }

  /** One key (value or null), or up to 100 keys as a `Map` (types `text` and `json` only). */
  async get(key: string | string[], options?: KvValueType | KvGetOptions): Promise<unknown> {
    if (Array.isArray(key)) return this.#getBulk(key, options, false);
    return (await this.#getSingle("GET", key, options)).value;
  }

  /** Like `get`, with the metadata: `{ value, metadata, cacheStatus: null }`, or a `Map` of `{ value, metadata }`. */
  async getWithMetadata(key: string | string[], options?: KvValueType | KvGetOptions): Promise<unknown> {
    if (Array.isArray(key)) return this.#getBulk(key, options, true);
    return this.#getSingle("GET", key, options);
  }

  async put(key: string, value: KvPutValue, options?: PutOptionsInput): Promise<void> {
    const name = String(key);
    validateKey("PUT", name);
    const bytes = await toBytes(value);
    if (bytes.byteLength > KV_LIMITS.maxValueBytes) throw valueTooLarge(bytes.byteLength);
    const { expiration, metadata } = validatePutOptions(options, this.#clock());
    this.#store.put(name, bytes, { expiration, metadata });
  }

  async delete(key: string): Promise<void> {
    const name = String(key);
    validateKey("DELETE", name);
    this.#store.delete(name);
  }

  async list(options: { prefix?: string | null; limit?: number; cursor?: string | null } = {}): Promise<KvListResult> {
    const limit = normalizeListLimit(options.limit);
    const prefix = options.prefix === undefined || options.prefix === null ? "" : String(options.prefix);
    validatePrefix(prefix);
    const cursor = options.cursor === undefined || options.cursor === null || options.cursor === "" ? undefined : String(options.cursor);
    // A cursor this node did not produce cannot be continued; the service answers those with a 400.
    if (cursor !== undefined && decodeCursor(cursor) === null) throw kvServiceError("GET", 400, "Invalid cursor.");
    const page = this.#store.list({ prefix, limit, cursor });
    const keys = page.keys.map((k) => {
      const out: KvListResultKey = { name: k.name };
      if (k.expiration !== null) out.expiration = k.expiration;
      if (k.metadata !== null) out.metadata = k.metadata;
      return out;
    });
    return page.cursor === undefined
      ? { keys, list_complete: true, cacheStatus: null }
      : { keys, list_complete: false, cursor: page.cursor, cacheStatus: null };
  }

  async #getSingle(
    method: KvMethod,
    key: string,
    options: KvValueType | KvGetOptions | undefined,
  ): Promise<KvGetWithMetadataResult> {
    const name = String(key);
    validateKey(method, name);
    const { type, cacheTtl } = splitGetOptions(options);
    validateCacheTtl(method, cacheTtl);
    if (type !== "text" && type !== "json" && type !== "arrayBuffer" && type !== "stream") {
      throw new TypeError(UNKNOWN_TYPE);
    }
    const entry = this.#store.get(name);
    if (entry === null) return { value: null, metadata: null, cacheStatus: null };
    return { value: decodeValue(entry.value, type), metadata: entry.metadata, cacheStatus: null };
  }

  async #getBulk(
    keys: string[],
    options: KvValueType | KvGetOptions | undefined,
    withMetadata: boolean,
  ): Promise<Map<string, unknown>> {
    const { type, cacheTtl } = splitGetOptions(options);
    if (type !== "text" && type !== "json") {
      throw kvServiceError("GET_BULK", 400, `"${String(type)}" is not a valid type. Use "json" or "text"`);
    }
    if (keys.length > KV_LIMITS.maxBulkGetKeys) {
      throw kvServiceError("GET_BULK", 400, `You can request a maximum of ${KV_LIMITS.maxBulkGetKeys} keys`);
    }
    if (keys.length < 1) throw kvServiceError("GET_BULK", 400, "You must request a minimum of 1 key");
    const names = keys.map((k) => String(k));
    for (const name of names) validateKey("GET_BULK", name);
    validateCacheTtl("GET_BULK", cacheTtl);

    const entries = this.#store.getMany(names);
    let totalBytes = 0;
    for (const entry of entries.values()) totalBytes += entry?.value.byteLength ?? 0;
    if (totalBytes > KV_LIMITS.maxBulkGetBytes) {
      throw kvServiceError("GET_BULK", 413, `Total size of request exceeds the limit of ${KV_LIMITS.maxBulkGetBytes / 1024 / 1024}MB`);
    }
    const out = new Map<string, unknown>();
    for (const name of names) {
      const entry = entries.get(name) ?? null;
      out.set(name, entry === null ? null : bulkValue(entry, type, withMetadata));
    }
    return out;
  }
}

function splitGetOptions(options: KvValueType | KvGetOptions | undefined): { type: unknown; cacheTtl: unknown } {
  if (options === undefined || options === null) return { type: "text", cacheTtl: undefined };
  if (typeof options === "string") return { type: options, cacheTtl: undefined };
  return { type: options.type ?? "text", cacheTtl: options.cacheTtl };
}

function bulkValue(entry: KvEntry, type: "text" | "json", withMetadata: boolean): unknown {
  let value: unknown;
  try {
    value = decodeValue(entry.value, type);
  } catch {
    throw kvServiceError("GET_BULK", 400, `At least one of the requested keys corresponds to a non-${type} value`);
  }
  return withMetadata ? { value, metadata: entry.metadata } : value;
}

function decodeValue(bytes: Uint8Array, type: KvValueType): unknown {
  switch (type) {
    case "text":
      return new TextDecoder().decode(bytes);
    case "json":
      return JSON.parse(new TextDecoder().decode(bytes));
    case "arrayBuffer":
      // The store hands out bytes that own their whole buffer; copy only if that ever changes.
      return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength
        ? bytes.buffer
        : bytes.slice().buffer;
    case "stream":
      return new ReadableStream({
        type: "bytes",
        start(controller) {
          // A byte stream refuses empty chunks, so an empty value is just a closed stream.
          if (bytes.byteLength > 0) controller.enqueue(bytes);
          controller.close();
        },
      });
  }
}

async function toBytes(value: unknown): Promise<Uint8Array> {
  if (typeof value === "string") return encoder.encode(value);
  // Tag and duck-type checks rather than `instanceof`, so values made in another realm also pass.
  if (Object.prototype.toString.call(value) === "[object ArrayBuffer]") {
    return new Uint8Array((value as ArrayBuffer).slice(0));
  }
  if (ArrayBuffer.isView(value)) {
    // Copied, so a caller mutating its buffer after `put` cannot change what was stored.
    return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  }
  if (isReadableStream(value)) return readStream(value);
  // workerd converts primitives such as numbers to their string form; objects are refused.
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return encoder.encode(String(value));
  }
  throw new TypeError(BAD_PUT_VALUE);
}

function isReadableStream(value: unknown): value is ReadableStream {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as ReadableStream).getReader === "function" &&
    typeof (value as ReadableStream).pipeTo === "function"
  );
}

/** Reads a stream to the end, giving up (and cancelling it) once it passes the 25 MiB limit. */
async function readStream(stream: ReadableStream): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let chunk: Uint8Array;
    if (Object.prototype.toString.call(value) === "[object ArrayBuffer]") chunk = new Uint8Array(value as ArrayBuffer);
    else if (ArrayBuffer.isView(value)) chunk = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    else {
      await reader.cancel();
      throw new TypeError("This ReadableStream did not return bytes.");
    }
    total += chunk.byteLength;
    if (total > KV_LIMITS.maxValueBytes) {
      // The reported length is what arrived before we stopped reading: at least this much.
      await reader.cancel();
      throw valueTooLarge(total);
    }
    chunks.push(chunk.slice());
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
