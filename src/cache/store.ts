/**
 * The node's cache database: one SQLite file shared by every isolate on the node, each opening its
 * own connection (WAL, so readers never wait for the writer). Entries are keyed by (namespace, URL
 * key); the store knows nothing of HTTP beyond the stored status, headers and body, and leaves every
 * caching decision to `policy.ts`.
 *
 * The total size lives in a one-row table kept exact by triggers, so enforcing the bound after a
 * put costs an indexed walk over the least recently used entries, never a scan of the whole table.
 */
import { Buffer } from "node:buffer";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import type Database from "better-sqlite3";
import { openSqlite } from "../shared/sqlite.js";

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cache_entries (
  id             INTEGER PRIMARY KEY,
  namespace      TEXT    NOT NULL,
  url            TEXT    NOT NULL,
  status         INTEGER NOT NULL,
  status_text    TEXT    NOT NULL,
  headers        TEXT    NOT NULL, -- JSON array of [name, value] pairs
  body           BLOB    NOT NULL,
  body_size      INTEGER NOT NULL,
  size           INTEGER NOT NULL, -- what the entry counts against maxBytes
  stored_at      INTEGER NOT NULL, -- epoch ms
  expires_at     INTEGER NOT NULL, -- epoch ms; never served at or after this
  initial_age    INTEGER NOT NULL, -- seconds, the response's own Age when put
  last_access_at INTEGER NOT NULL, -- epoch ms, refreshed at most once per second
  UNIQUE (namespace, url)
);
CREATE INDEX IF NOT EXISTS cache_entries_by_access ON cache_entries (last_access_at);
CREATE INDEX IF NOT EXISTS cache_entries_by_expiry ON cache_entries (expires_at);
CREATE TABLE IF NOT EXISTS cache_totals (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO cache_totals (id, bytes) VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS cache_entries_count_insert AFTER INSERT ON cache_entries
  BEGIN UPDATE cache_totals SET bytes = bytes + NEW.size WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS cache_entries_count_delete AFTER DELETE ON cache_entries
  BEGIN UPDATE cache_totals SET bytes = bytes - OLD.size WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS cache_entries_count_update AFTER UPDATE OF size ON cache_entries
  BEGIN UPDATE cache_totals SET bytes = bytes - OLD.size + NEW.size WHERE id = 1; END;
`;

const META_COLUMNS =
  "status, status_text AS statusText, headers, body_size AS bodySize, stored_at AS storedAt, " +
  "expires_at AS expiresAt, initial_age AS initialAgeSec, last_access_at AS lastAccessAt";

/** Every statement the store runs, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  return {
    upsert: db.prepare<[string, string, number, string, string, Buffer, number, number, number, number, number, number]>(
      `INSERT INTO cache_entries (namespace, url, status, status_text, headers, body, body_size, size,
         stored_at, expires_at, initial_age, last_access_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (namespace, url) DO UPDATE SET
         status = excluded.status, status_text = excluded.status_text, headers = excluded.headers,
         body = excluded.body, body_size = excluded.body_size, size = excluded.size,
         stored_at = excluded.stored_at, expires_at = excluded.expires_at,
         initial_age = excluded.initial_age, last_access_at = excluded.last_access_at`,
    ),
    getMeta: db.prepare<[string, string], RawMeta>(
      `SELECT ${META_COLUMNS} FROM cache_entries WHERE namespace = ? AND url = ?`,
    ),
    getBody: db.prepare<[string, string], { body: Buffer }>(
      "SELECT body FROM cache_entries WHERE namespace = ? AND url = ?",
    ),
    // substr() counts bytes (from 1) when its argument is a BLOB, so a range never copies the
    // whole body into JavaScript.
    getBodySlice: db.prepare<[number, number, string, string], { body: Buffer }>(
      "SELECT substr(body, ?, ?) AS body FROM cache_entries WHERE namespace = ? AND url = ?",
    ),
    touch: db.prepare<[number, string, string]>(
      "UPDATE cache_entries SET last_access_at = ? WHERE namespace = ? AND url = ?",
    ),
    deleteEntry: db.prepare<[string, string], { expiresAt: number }>(
      "DELETE FROM cache_entries WHERE namespace = ? AND url = ? RETURNING expires_at AS expiresAt",
    ),
    deleteIfExpired: db.prepare<[string, string, number]>(
      "DELETE FROM cache_entries WHERE namespace = ? AND url = ? AND expires_at <= ?",
    ),
    deleteExpiredBatch: db.prepare<[number, number]>(
      `DELETE FROM cache_entries WHERE id IN
         (SELECT id FROM cache_entries WHERE expires_at <= ? LIMIT ?)`,
    ),
    leastRecentlyUsed: db.prepare<[number], { id: number }>(
      "SELECT id FROM cache_entries ORDER BY last_access_at, id LIMIT ?",
    ),
    deleteById: db.prepare<[number]>("DELETE FROM cache_entries WHERE id = ?"),
    totalBytes: db.prepare<[], { bytes: number }>("SELECT bytes FROM cache_totals WHERE id = 1"),
    countEntries: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM cache_entries"),
  };
}

interface RawMeta {
  status: number;
  statusText: string;
  headers: string;
  bodySize: number;
  storedAt: number;
  expiresAt: number;
  initialAgeSec: number;
  lastAccessAt: number;
}

/** A stored entry without its body. */
export interface CacheEntryMeta {
  status: number;
  statusText: string;
  headers: [string, string][];
  bodySize: number;
  /** Epoch milliseconds. */
  storedAt: number;
  expiresAt: number;
  initialAgeSec: number;
  lastAccessAt: number;
}

export interface CacheEntryInput {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Uint8Array;
  /** Epoch milliseconds after which the entry is never served. */
  expiresAt: number;
  initialAgeSec: number;
}

/** Which part of the body a read needs: all of it, a byte slice, or none (a 304 or 416). */
export type BodySelection = "all" | "none" | { start: number; length: number };

export interface CacheRead {
  meta: CacheEntryMeta;
  /** Empty when the selection was "none". */
  body: Buffer;
}

export interface CacheStoreOptions {
  /** Bound on the bytes of all entries (bodies, headers, keys), default 512 MiB, at least 1. */
  maxBytes?: number;
  /** Epoch-millisecond clock, default `Date.now`; tests inject one to control expiry and recency. */
  clock?: () => number;
}

export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

/** Recency is refreshed at most this often per entry, so hot entries do not write on every hit. */
export const TOUCH_INTERVAL_MS = 1000;

/** Expired entries removed per put; bounding it keeps one put from stalling on a large cleanup. */
const EXPIRED_SWEEP_LIMIT = 256;

/**
 * Synchronous storage for cache entries.
 *
 * @example
 *   const store = new CacheStore(cacheDbPath("/var/lib/ledge"));
 *   store.put("default", "https://example.com/a", { status: 200, statusText: "", headers: [],
 *     body: new Uint8Array(), expiresAt: Date.now() + 60_000, initialAgeSec: 0 });
 */
export class CacheStore {
  readonly maxBytes: number;
  readonly #db: Database.Database;
  readonly #stmts: ReturnType<typeof prepareStatements>;
  readonly #clock: () => number;
  readonly #putTx: (namespace: string, url: string, entry: CacheEntryInput, size: number) => void;
  readonly #readTx: (namespace: string, url: string, select: (meta: CacheEntryMeta) => BodySelection) =>
    CacheRead | undefined;

  constructor(dbPath: string, options: CacheStoreOptions = {}) {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(`cache maxBytes must be a positive integer, got ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
    this.#clock = options.clock ?? Date.now;
    if (dbPath !== ":memory:") mkdirSync(dirname(dbPath), { recursive: true });
    this.#db = openSqlite(dbPath);
    this.#db.pragma("busy_timeout = 5000");
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = NORMAL");
    this.#db.transaction(() => {
      const version = this.#db.pragma("user_version", { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new Error(`cache database ${dbPath} has schema ${version}, newer than this Ledge (${SCHEMA_VERSION})`);
      }
      this.#db.exec(SCHEMA);
      this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }).immediate();
    this.#stmts = prepareStatements(this.#db);

    const putTx = this.#db.transaction((namespace: string, url: string, entry: CacheEntryInput, size: number) => {
      const now = this.#clock();
      const body = Buffer.from(entry.body.buffer, entry.body.byteOffset, entry.body.byteLength);
      this.#stmts.upsert.run(namespace, url, entry.status, entry.statusText, JSON.stringify(entry.headers), body,
        body.byteLength, size, now, entry.expiresAt, entry.initialAgeSec, now);
      this.#stmts.deleteExpiredBatch.run(now, EXPIRED_SWEEP_LIMIT);
      this.#evictOverBound();
    });
    this.#putTx = (namespace, url, entry, size) => putTx.immediate(namespace, url, entry, size);

    // One deferred transaction makes the metadata and the body come from the same snapshot even
    // when another isolate replaces the entry in between.
    this.#readTx = this.#db.transaction((namespace: string, url: string, select) => {
      const raw = this.#stmts.getMeta.get(namespace, url);
      if (raw === undefined) return undefined;
      const meta: CacheEntryMeta = { ...raw, headers: JSON.parse(raw.headers) as [string, string][] };
      if (meta.expiresAt <= this.#clock()) return { meta, body: Buffer.alloc(0) };
      const selection = select(meta);
      let body: Buffer;
      if (selection === "none") body = Buffer.alloc(0);
      else if (selection === "all") body = this.#stmts.getBody.get(namespace, url)!.body;
      else body = this.#stmts.getBodySlice.get(selection.start + 1, selection.length, namespace, url)!.body;
      return { meta, body };
    });
  }

  /** Bytes an entry counts against the bound: its body plus its key and serialized headers. */
  static entrySize(namespace: string, url: string, entry: Pick<CacheEntryInput, "headers" | "body">): number {
    return (
      entry.body.byteLength +
      Buffer.byteLength(namespace) +
      Buffer.byteLength(url) +
      Buffer.byteLength(JSON.stringify(entry.headers))
    );
  }

  /**
   * Stores or replaces an entry, then evicts expired and least recently used entries until the
   * total fits `maxBytes`. Returns false, storing nothing, when the entry alone exceeds the bound.
   */
  put(namespace: string, url: string, entry: CacheEntryInput): boolean {
    const size = CacheStore.entrySize(namespace, url, entry);
    if (size > this.maxBytes) return false;
    this.#putTx(namespace, url, entry, size);
    return true;
  }

  /**
   * Reads a live entry. `select` sees the metadata first and says how much of the body to load.
   * An expired entry is deleted and reads as absent. A hit refreshes the entry's recency.
   */
  read(namespace: string, url: string, select: (meta: CacheEntryMeta) => BodySelection): CacheRead | undefined {
    const read = this.#readTx(namespace, url, select);
    if (read === undefined) return undefined;
    const now = this.#clock();
    if (read.meta.expiresAt <= now) {
      this.#stmts.deleteIfExpired.run(namespace, url, now);
      return undefined;
    }
    if (now - read.meta.lastAccessAt >= TOUCH_INTERVAL_MS) this.#stmts.touch.run(now, namespace, url);
    return read;
  }

  /** Removes an entry; true if a live (unexpired) entry was removed. */
  delete(namespace: string, url: string): boolean {
    const removed = this.#stmts.deleteEntry.get(namespace, url);
    return removed !== undefined && removed.expiresAt > this.#clock();
  }

  /** The store's clock, in epoch milliseconds. */
  now(): number {
    return this.#clock();
  }

  /** Bytes currently counted against `maxBytes`, expired entries included until they are swept. */
  totalBytes(): number {
    return this.#stmts.totalBytes.get()!.bytes;
  }

  /** Number of stored entries, expired ones included until they are swept. */
  count(): number {
    return this.#stmts.countEntries.get()!.n;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #evictOverBound(): void {
    while (this.totalBytes() > this.maxBytes) {
      const victims = this.#stmts.leastRecentlyUsed.all(16);
      if (victims.length === 0) return;
      for (const { id } of victims) {
        this.#stmts.deleteById.run(id);
        if (this.totalBytes() <= this.maxBytes) return;
      }
    }
  }
}

