/**
 * One Durable Object's storage: a SQLite file per object exposing Cloudflare's `ctx.storage` API
 * (KV-style methods, SQL, transactions, alarms), plus the members the runtime needs: the output
 * gate `whenDurable()`, `broken` and `close()`. Runs inside the app's isolate (worker thread).
 */
export { ObjectStorage, openObjectStorage } from "./object-storage.js";
export type { ObjectStorageOptions, GetOptions, PutOptions } from "./object-storage.js";
export type { Durability } from "./commit.js";
export type { ListOptions, SyncKvStorage } from "./kv.js";
export type { SqlStorage, SqlStorageCursor, SqlStorageValue, RawCursor } from "./sql.js";
export type { DurableObjectTransaction } from "./transaction.js";
export type { StorageKind } from "./limits.js";
export {
  MAX_KEYS_PER_BATCH,
  KV_MAX_KEY_BYTES,
  KV_MAX_VALUE_BYTES,
  SQLITE_MAX_ROW_BYTES,
  SQL_MAX_BINDINGS,
  SQL_MAX_QUERY_BYTES,
} from "./limits.js";
