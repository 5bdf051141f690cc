/**
 * The Workers Cache API (`caches.default`, `caches.open(name)`) for one node, persisted in
 * `<persistDir>/cache/cache.sqlite` and shared by every isolate on the node.
 *
 * @example
 *   const caches = createCacheStorage({ dbPath: cacheDbPath(persistDir) });
 *   await caches.default.put("https://example.com/a", new Response("hi", {
 *     headers: { "Cache-Control": "max-age=60" } }));
 *   const hit = await caches.default.match("https://example.com/a"); // 200, CF-Cache-Status: HIT
 *   closeCacheStorage(caches); // when the isolate shuts down
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { MAX_CACHE_NAME_BYTES, WorkersCache } from "./cache.js";
import { CacheStore } from "./store.js";

export { CacheStore, DEFAULT_MAX_BYTES, TOUCH_INTERVAL_MS } from "./store.js";
export type { BodySelection, CacheEntryInput, CacheEntryMeta, CacheRead, CacheStoreOptions } from "./store.js";
export { MAX_CACHE_NAME_BYTES, MAX_ENTRY_BODY_BYTES } from "./cache.js";
export type { CacheKey, CacheQueryOptions } from "./cache.js";
export { DEFAULT_TTL_SECONDS_BY_STATUS, planStore } from "./policy.js";
export type { NotStoredReason, StorePlan } from "./policy.js";

/** One cache namespace as user code sees it. */
export type Cache = WorkersCache;

/** The `caches` global as user code sees it. */
export interface CacheStorage {
  readonly default: Cache;
  open(cacheName: string): Promise<Cache>;
}

export interface CacheStorageOptions {
  /** SQLite file, normally `cacheDbPath(persistDir)`; created with its folder if missing. */
  dbPath: string;
  /** Bound on all entries of the node, in bytes; default 512 MiB, at least 1. */
  maxBytes?: number;
  /** Epoch-millisecond clock, default `Date.now`. */
  clock?: () => number;
}

/** Where a node keeps its cache: `<persistDir>/cache/cache.sqlite`. */
export function cacheDbPath(persistDir: string): string {
  return join(persistDir, "cache", "cache.sqlite");
}

/**
 * Namespaces inside the database. `caches.default` and `caches.open("default")` are different
 * caches on Cloudflare, so the two kinds get different prefixes.
 */
const DEFAULT_NAMESPACE = "default";
function namedNamespace(name: string): string {
  return `named:${name}`;
}

/** Connections behind each storage, kept out of the object user code can reach. */
const stores = new WeakMap<CacheStorage, CacheStore>();

class WorkersCacheStorage implements CacheStorage {
  readonly #store: CacheStore;
  readonly #default: Cache;

  constructor(store: CacheStore) {
    this.#store = store;
    this.#default = new WorkersCache(store, DEFAULT_NAMESPACE);
  }

  get default(): Cache {
    return this.#default;
  }

  async open(cacheName: string): Promise<Cache> {
    const name = String(cacheName);
    if (Buffer.byteLength(name) >= MAX_CACHE_NAME_BYTES) throw new TypeError("Cache name is too long.");
    return new WorkersCache(this.#store, namedNamespace(name));
  }
}

/** Opens the node's cache database and returns the `caches` object for one isolate. */
export function createCacheStorage(opts: CacheStorageOptions): CacheStorage {
  const store = new CacheStore(opts.dbPath, { maxBytes: opts.maxBytes, clock: opts.clock });
  const storage = new WorkersCacheStorage(store);
  stores.set(storage, store);
  return storage;
}

/** Closes the database connection behind a storage made by `createCacheStorage`. Idempotent. */
export function closeCacheStorage(storage: CacheStorage): void {
  stores.get(storage)?.close();
}
