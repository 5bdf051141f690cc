/**
 * Synchronous storage for one KV namespace: one SQLite file per namespace id at
 * `<persistDir>/kv/<namespaceId>.sqlite`.
 *
 * Several connections use the same file at once: every isolate that binds the namespace opens its
 * own (apps run in worker threads, and apps binding the same id share data), the CLI opens one, and
 * the purger in the main thread opens one. WAL mode lets readers run while one writer commits, and
 * `busy_timeout` makes a writer wait for the write lock instead of failing with SQLITE_BUSY.
 *
 * This module runs inside worker threads whose user-visible globals (`process`, `Buffer`, ...) are
 * deleted before user code starts, so everything from Node is imported explicitly.
 */
import { Buffer } from "node:buffer";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import type Database from "better-sqlite3";
import { openSqlite } from "../shared/sqlite.js";
import { LedgeError } from "../shared/errors.js";
import { kvIdFileName, kvNamespaceIdProblem } from "../shared/names.js";
import { insideRoot } from "../shared/paths.js";

/** One stored entry as a read sees it. */
export interface KvEntry {
  value: Uint8Array;
  /** Epoch seconds, or null when the key never expires. */
  expiration: number | null;
  /** The parsed metadata, or null when none was stored. */
  metadata: unknown;
}

export interface KvListOptions {
  /** Only keys starting with this string. */
  prefix?: string;
  /** Page size; the caller validates bounds (the binding allows 1..1000). Default 1000. */
  limit?: number;
  /** An opaque cursor from a previous page of the same listing. */
  cursor?: string;
}

export interface KvListKey {
  name: string;
  expiration: number | null;
  metadata: unknown;
}

export interface KvListPage {
  keys: KvListKey[];
  /** Present only when more keys may follow. */
  cursor?: string;
}

export interface KvStoreOptions {
  /** Current time in epoch milliseconds. Default `Date.now`. Injected so tests control expiry. */
  clock?: () => number;
}

/**
 * The value column is last on purpose: SQLite reads a row's columns in order, so listings, which
 * never touch the value, stop before a large value's overflow pages. The key is TEXT with the
 * default BINARY collation, which compares the UTF-8 bytes: exactly Cloudflare's list order.
 * A rowid table (not WITHOUT ROWID) is used because values may be up to 25 MiB, far above the row
 * size WITHOUT ROWID tables are meant for.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY NOT NULL,
  expiration INTEGER,
  metadata TEXT,
  value BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_by_expiration ON kv (expiration) WHERE expiration IS NOT NULL;
`;

/** `:now` is in epoch seconds with a fraction; a key is visible while `expiration > :now`. */
const VISIBLE = "(expiration IS NULL OR expiration > :now)";
const LIST_COLUMNS = "SELECT key, expiration, metadata FROM kv";

const STATEMENTS = {
  get: `SELECT value, expiration, metadata FROM kv WHERE key = :key AND ${VISIBLE}`,
  put: `INSERT INTO kv (key, expiration, metadata, value) VALUES (:key, :expiration, :metadata, :value)
        ON CONFLICT (key) DO UPDATE SET expiration = excluded.expiration, metadata = excluded.metadata, value = excluded.value`,
  delete: "DELETE FROM kv WHERE key = :key",
  purgeExpired: "DELETE FROM kv WHERE expiration IS NOT NULL AND expiration <= :now",
  // Four listing shapes, so every query is a single bounded range on the primary key index; mixing
  // a cursor bound and a prefix bound in one query would let SQLite pick the weaker one and rescan
  // earlier pages on every call.
  listFrom: `${LIST_COLUMNS} WHERE key >= :lower AND ${VISIBLE} ORDER BY key LIMIT :limit`,
  listAfter: `${LIST_COLUMNS} WHERE key > :lower AND ${VISIBLE} ORDER BY key LIMIT :limit`,
  listFromBelow: `${LIST_COLUMNS} WHERE key >= :lower AND key < :upper AND ${VISIBLE} ORDER BY key LIMIT :limit`,
  listAfterBelow: `${LIST_COLUMNS} WHERE key > :lower AND key < :upper AND ${VISIBLE} ORDER BY key LIMIT :limit`,
} as const;

type Statements = { -readonly [K in keyof typeof STATEMENTS]: Database.Statement };

interface EntryRow {
  value: Buffer;
  expiration: number | null;
  metadata: string | null;
}

interface ListRow {
  key: string;
  expiration: number | null;
  metadata: string | null;
}

/**
 * Path of a namespace's database. Ids are usually 32 hex digits or a binding name; any other
 * character is percent-encoded (and `%` itself, so the mapping stays one-to-one). Ids that try to
 * leave the folder (`..`, separators, NUL) are refused rather than rewritten (src/shared/names.ts).
 * Example: `kvDbPath("/srv/app/.ledge/state", "MY_KV")` → `/srv/app/.ledge/state/kv/MY_KV.sqlite`.
 */
export function kvDbPath(persistDir: string, namespaceId: string): string {
  const problem = typeof namespaceId === "string" ? kvNamespaceIdProblem(namespaceId) : "a string";
  if (problem !== undefined) {
    throw new LedgeError("LEDGE_KV_NAMESPACE_ID", `KV namespace id ${JSON.stringify(namespaceId).slice(0, 80)} is not allowed: expected ${problem}`);
  }
  return insideRoot(join(persistDir, "kv"), `${kvIdFileName(namespaceId)}.sqlite`);
}

/** Cursor = base64url of the last key returned; the next page continues strictly after it. */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(lastKey, "utf8").toString("base64url");
}

/** Returns the key a cursor points after, or null when the text is not a cursor we made. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  const key = Buffer.from(cursor, "base64url").toString("utf8");
  return encodeCursor(key) === cursor ? key : null;
}

/**
 * The smallest string above every string that starts with `prefix`, in code point (= UTF-8 byte)
 * order: the last code point incremented, skipping surrogates. Null when no such bound exists.
 */
export function prefixUpperBound(prefix: string): string | null {
  const cps = Array.from(prefix, (c) => c.codePointAt(0) as number);
  while (cps.length > 0) {
    let last = (cps.pop() as number) + 1;
    if (last === 0xd800) last = 0xe000;
    if (last <= 0x10ffff) return String.fromCodePoint(...cps, last);
  }
  return null;
}

/** Compares strings by code point, which is the UTF-8 byte order SQLite uses (JS `<` is UTF-16). */
export function compareUtf8(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = (x.value.codePointAt(0) as number) - (y.value.codePointAt(0) as number);
    if (d !== 0) return d;
  }
}

export class KvStore {
  readonly dbPath: string;
  readonly clock: () => number;
  readonly #db: Database.Database;
  readonly #stmts: Statements;
  readonly #getMany: (keys: readonly string[]) => Map<string, KvEntry | null>;

  /** Example: `const store = new KvStore(kvDbPath(persistDir, "MY_KV"))`. Creates the file if needed. */
  constructor(dbPath: string, opts: KvStoreOptions = {}) {
    this.dbPath = dbPath;
    this.clock = opts.clock ?? Date.now;
    mkdirSync(dirname(dbPath), { recursive: true });
    this.#db = openSqlite(dbPath);
    // Wait up to 5 s for another connection's write to finish instead of failing at once.
    this.#db.pragma("busy_timeout = 5000");
    this.#db.pragma("journal_mode = WAL");
    // In WAL mode NORMAL never corrupts the database; it only skips the fsync per commit, so a power
    // loss (not a process crash) may drop the last commits. KV is documented as eventually
    // consistent, and an fsync per put would cap write throughput at the disk's flush rate.
    this.#db.pragma("synchronous = NORMAL");
    this.#db.exec(SCHEMA);
    const stmts = {} as Statements;
    for (const [name, sql] of Object.entries(STATEMENTS)) stmts[name as keyof Statements] = this.#db.prepare(sql);
    this.#stmts = stmts;
    // One read transaction, so a bulk read sees a single snapshot even while others write.
    this.#getMany = this.#db.transaction((keys: readonly string[]) => {
      const out = new Map<string, KvEntry | null>();
      for (const key of keys) out.set(key, this.get(key));
      return out;
    });
  }

  #nowSeconds(): number {
    return this.clock() / 1000;
  }

  /** The live entry for `key`, or null when missing or expired. */
  get(key: string): KvEntry | null {
    const row = this.#stmts.get.get({ key, now: this.#nowSeconds() }) as EntryRow | undefined;
    if (row === undefined) return null;
    return { value: toPlainBytes(row.value), expiration: row.expiration, metadata: parseMetadata(row.metadata) };
  }

  /** Entries for several keys read from one snapshot; missing or expired keys map to null. */
  getMany(keys: readonly string[]): Map<string, KvEntry | null> {
    return this.#getMany(keys);
  }

  /** Writes or replaces `key`. `expiration` is epoch seconds; `metadata` null/undefined means none. */
  put(key: string, value: Uint8Array, opts: { expiration?: number | null; metadata?: unknown } = {}): void {
    const metadata = opts.metadata === undefined || opts.metadata === null ? null : JSON.stringify(opts.metadata);
    this.#stmts.put.run({
      key,
      expiration: opts.expiration ?? null,
      metadata,
      value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
    });
  }

  /** Removes `key`; removing a missing key is not an error. */
  delete(key: string): void {
    this.#stmts.delete.run({ key });
  }

  /** Runs `fn` in one write transaction (used by bulk writes so they land all or nothing). */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /** One page of live keys in UTF-8 byte order. Throws a TypeError for a cursor we did not make. */
  list(opts: KvListOptions = {}): KvListPage {
    const prefix = opts.prefix ?? "";
    const limit = opts.limit ?? 1000;
    let lower = prefix;
    let exclusive = false;
    if (opts.cursor !== undefined && opts.cursor !== "") {
      const after = decodeCursor(opts.cursor);
      if (after === null) throw new TypeError(`Invalid list cursor ${JSON.stringify(opts.cursor)}`);
      if (compareUtf8(after, prefix) >= 0) {
        lower = after;
        exclusive = true;
      }
    }
    const upper = prefix === "" ? null : prefixUpperBound(prefix);
    const stmt =
      upper === null
        ? exclusive ? this.#stmts.listAfter : this.#stmts.listFrom
        : exclusive ? this.#stmts.listAfterBelow : this.#stmts.listFromBelow;
    const params: Record<string, unknown> = { lower, now: this.#nowSeconds(), limit: limit + 1 };
    if (upper !== null) params.upper = upper;
    const rows = stmt.all(params) as ListRow[];
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const keys = page.map((r) => ({ name: r.key, expiration: r.expiration, metadata: parseMetadata(r.metadata) }));
    const last = page.at(-1);
    return more && last !== undefined ? { keys, cursor: encodeCursor(last.key) } : { keys };
  }

  /** Deletes every expired entry and returns how many were removed. Reads never see them anyway. */
  purgeExpired(): number {
    return this.#stmts.purgeExpired.run({ now: this.#nowSeconds() }).changes;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}


function parseMetadata(json: string | null): unknown {
  return json === null ? null : JSON.parse(json);
}

/**
 * better-sqlite3 returns a Node `Buffer`; callers get a plain `Uint8Array` that owns its whole
 * `ArrayBuffer`, so `value.buffer` is exactly the value (what `get(key, "arrayBuffer")` returns).
 */
function toPlainBytes(buf: Buffer): Uint8Array {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  return new Uint8Array(buf);
}
