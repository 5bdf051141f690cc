/**
 * Workers KV on one node: the contract other folders import.
 *
 * - `KvStore`: synchronous SQLite storage for one namespace id (`kvDbPath` says where).
 * - `KVNamespace`: the `env.MY_KV` binding given to user code, with Cloudflare's limits and errors.
 * - `startKvPurger`: the main thread's background removal of expired entries.
 */
export { KvStore, kvDbPath } from "./store.js";
export type { KvEntry, KvListKey, KvListOptions, KvListPage, KvStoreOptions } from "./store.js";
export { KVNamespace } from "./namespace.js";
export type {
  KVNamespaceOptions,
  KvGetOptions,
  KvGetWithMetadataResult,
  KvListResult,
  KvListResultKey,
  KvPutValue,
  KvValueType,
} from "./namespace.js";
export { KV_LIMITS } from "./limits.js";
export type { PutOptionsInput } from "./limits.js";
export { startKvPurger } from "./purger.js";
export type { KvPurger, KvPurgerOptions } from "./purger.js";
