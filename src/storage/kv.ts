/**
 * The key-value operations behind `ctx.storage.get/put/delete/list`, the transaction object and
 * the synchronous `ctx.storage.kv`. Everything here is synchronous: the async API wraps these in
 * already-settled promises. Keys are compared as UTF-8 bytes, which is SQLite's BINARY order for
 * TEXT and Cloudflare's documented order (it differs from JavaScript's UTF-16 order for characters
 * above U+FFFF against those in U+E000..U+FFFF).
 */
import { Buffer } from "node:buffer";
import type { CommitPipeline } from "./commit.js";
import type { Statements } from "./database.js";
import { assertBatchSize, assertEntrySize, assertKeySize, type StorageKind } from "./limits.js";
import { deserializeValue, serializeValue } from "./values.js";

export interface ListOptions {
  /** First key to return (inclusive). Cannot be combined with `startAfter`. */
  start?: string;
  /** Return keys strictly after this one. */
  startAfter?: string;
  /** Stop before this key (exclusive). */
  end?: string;
  /** Only keys that begin with this string. */
  prefix?: string;
  /** Descending order; `start`/`end` keep their meaning. */
  reverse?: boolean;
  /** At most this many entries (a positive integer). */
  limit?: number;
  allowConcurrency?: boolean;
  noCache?: boolean;
}

/** Upper bound used when the caller gives none: 0xFF never occurs in UTF-8, so it is above every key. */
const NO_UPPER_BOUND = Buffer.from([0xff]);

export class KvOps {
  readonly #stmts: Statements;
  readonly #pipeline: CommitPipeline;
  readonly #kind: StorageKind;

  constructor(stmts: Statements, pipeline: CommitPipeline, kind: StorageKind) {
    this.#stmts = stmts;
    this.#pipeline = pipeline;
    this.#kind = kind;
  }

  get(key: string): unknown {
    this.#pipeline.assertUsable();
    assertKeySize(this.#kind, key);
    const bytes = this.#stmts.kvGet.get(key) as Buffer | undefined;
    return bytes === undefined ? undefined : deserializeValue(bytes);
  }

  /** Missing keys are left out; the map is in key order, like Cloudflare's. */
  getMany(keys: string[]): Map<string, unknown> {
    this.#pipeline.assertUsable();
    assertBatchSize(keys.length, "get");
    for (const key of keys) assertKeySize(this.#kind, key);
    const found: [string, Buffer][] = [];
    for (const key of new Set(keys)) {
      const bytes = this.#stmts.kvGet.get(key) as Buffer | undefined;
      if (bytes !== undefined) found.push([key, bytes]);
    }
    found.sort((a, b) => compareUtf8(a[0], b[0]));
    return new Map(found.map(([key, bytes]) => [key, deserializeValue(bytes)]));
  }

  put(key: string, value: unknown, confirmed: boolean): void {
    this.#pipeline.assertUsable();
    if (value === undefined) throw new TypeError("put() called with undefined value.");
    const bytes = serializeValue(value);
    assertEntrySize(this.#kind, key, bytes);
    this.#pipeline.write(confirmed, () => this.#stmts.kvPut.run(key, bytes));
  }

  /** Entries whose value is undefined are skipped, as workerd does. */
  putMany(entries: Record<string, unknown>, confirmed: boolean): void {
    this.#pipeline.assertUsable();
    const pairs = Object.entries(entries);
    assertBatchSize(pairs.length, "put");
    // Serialize and check everything first, so a bad entry leaves no partial batch behind.
    const rows: [string, Buffer][] = [];
    for (const [key, value] of pairs) {
      if (value === undefined) continue;
      const bytes = serializeValue(value);
      assertEntrySize(this.#kind, key, bytes);
      rows.push([key, bytes]);
    }
    if (rows.length === 0) return;
    this.#pipeline.write(confirmed, () => {
      for (const [key, bytes] of rows) this.#stmts.kvPut.run(key, bytes);
    });
  }

  delete(key: string, confirmed: boolean): boolean {
    this.#pipeline.assertUsable();
    assertKeySize(this.#kind, key);
    return this.#pipeline.write(confirmed, () => this.#stmts.kvDelete.run(key).changes > 0);
  }

  deleteMany(keys: string[], confirmed: boolean): number {
    this.#pipeline.assertUsable();
    assertBatchSize(keys.length, "delete");
    for (const key of keys) assertKeySize(this.#kind, key);
    if (keys.length === 0) return 0;
    return this.#pipeline.write(confirmed, () => {
      let deleted = 0;
      for (const key of new Set(keys)) deleted += this.#stmts.kvDelete.run(key).changes;
      return deleted;
    });
  }

  list(options: ListOptions = {}): Map<string, unknown> {
    this.#pipeline.assertUsable();
    const range = listRange(options);
    const limit = listLimit(options.limit);
    const result = new Map<string, unknown>();
    if (range === null) return result;
    const stmt = options.reverse ? this.#stmts.kvListDesc : this.#stmts.kvListAsc;
    const rows = stmt.all(range.lower, range.upper, limit ?? -1) as [string, Buffer][];
    for (const [key, bytes] of rows) result.set(key, deserializeValue(bytes));
    return result;
  }
}

/** `ctx.storage.kv`: the synchronous KV API of SQLite-backed classes. */
export class SyncKvStorage {
  readonly #ops: KvOps;

  constructor(ops: KvOps) {
    this.#ops = ops;
  }

  get(key: string): unknown {
    return this.#ops.get(String(key));
  }

  put(key: string, value: unknown): void {
    this.#ops.put(String(key), value, true);
  }

  delete(key: string): boolean {
    return this.#ops.delete(String(key), true);
  }

  list(options?: ListOptions): IterableIterator<[string, unknown]> {
    return this.#ops.list(options).entries();
  }
}

export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function listLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (typeof limit !== "number" || !(limit > 0)) throw new TypeError("List limit must be positive.");
  return Math.floor(limit);
}

/**
 * Turns the list options into one byte range [lower, upper), or null when it is empty. `startAfter`
 * becomes an inclusive start by appending a NUL byte (the smallest key after it), and a prefix
 * clamps the range to [prefix, the first byte string after every key with that prefix).
 */
function listRange(options: ListOptions): { lower: Buffer; upper: Buffer } | null {
  if (options.start !== undefined && options.startAfter !== undefined) {
    throw new TypeError("list() cannot be called with both start and startAfter values.");
  }
  let lower =
    options.start !== undefined
      ? utf8(options.start)
      : options.startAfter !== undefined
        ? Buffer.concat([utf8(options.startAfter), Buffer.from([0])])
        : Buffer.alloc(0);
  let upper: Buffer | null = options.end !== undefined ? utf8(options.end) : null;
  if (options.prefix !== undefined && String(options.prefix) !== "") {
    const prefix = utf8(options.prefix);
    if (Buffer.compare(lower, prefix) < 0) lower = prefix;
    else if (!startsWith(lower, prefix)) return null;
    const afterPrefix = bytesAfterPrefix(prefix);
    if (upper === null) upper = afterPrefix;
    else if (Buffer.compare(upper, prefix) <= 0) return null;
    else if (!startsWith(upper, prefix)) upper = afterPrefix;
  }
  if (upper !== null && Buffer.compare(upper, lower) <= 0) return null;
  return { lower, upper: upper ?? NO_UPPER_BOUND };
}

/** The smallest byte string greater than every string that starts with `prefix`. */
function bytesAfterPrefix(prefix: Buffer): Buffer {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return NO_UPPER_BOUND;
  const out = Buffer.from(prefix.subarray(0, end));
  out[end - 1] += 1;
  return out;
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.subarray(0, prefix.length).equals(prefix);
}

function utf8(value: unknown): Buffer {
  return Buffer.from(String(value), "utf8");
}
