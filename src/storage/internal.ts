/**
 * Members for Ledge's own code and tests, not part of the storage contract in index.ts: the raw
 * database of an ObjectStorage (for fault injection in tests, and for the cluster's WAL capture
 * later), and the shared WAL syncer.
 */
export const kDatabase: unique symbol = Symbol("ledge.storage.database");
export { acquireWalSyncer, WalSyncer } from "./wal-syncer.js";
export { parseQuery } from "./sql-guard.js";
export { compareUtf8 } from "./kv.js";
