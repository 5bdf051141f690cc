/**
 * Cloudflare's Durable Object storage limits, checked before anything touches SQLite so that an
 * app that would fail on Cloudflare fails the same way here. Error classes follow workerd:
 * sizes and counts are `RangeError`s, malformed arguments are `TypeError`s.
 */
import { Buffer } from "node:buffer";

/** Keys per `get`/`put`/`delete` batch (both storage kinds). */
export const MAX_KEYS_PER_BATCH = 128;
/** KV-backed classes: key size in UTF-8 bytes. */
export const KV_MAX_KEY_BYTES = 2048;
/** KV-backed classes: serialized value size in bytes, as documented. */
export const KV_MAX_VALUE_BYTES = 128 * 1024;
/**
 * KV-backed classes: what is actually enforced. The V8 serializer adds a few header and tag bytes,
 * so a 128 KiB ArrayBuffer serializes to slightly more than 128 KiB; Cloudflare lets that through,
 * and so do we.
 */
export const KV_ENFORCED_MAX_VALUE_BYTES = KV_MAX_VALUE_BYTES + 32;
/** SQLite-backed classes: key plus serialized value, in bytes (the SQLite row limit). */
export const SQLITE_MAX_ROW_BYTES = 2 * 1024 * 1024;
/** SQL API: bound parameters per statement. */
export const SQL_MAX_BINDINGS = 100;
/** SQL API: length of the query text in UTF-8 bytes. */
export const SQL_MAX_QUERY_BYTES = 100_000;
/** SQL API: one bound string or BLOB, in bytes (the same 2 MB SQLite row limit). */
export const SQL_MAX_VALUE_BYTES = SQLITE_MAX_ROW_BYTES;

export type StorageKind = "sqlite" | "kv";

export function assertBatchSize(count: number, method: string): void {
  if (count > MAX_KEYS_PER_BATCH) {
    throw new RangeError(
      `${method}() was given ${count} keys; the limit is ${MAX_KEYS_PER_BATCH} keys per call.`,
    );
  }
}

/** Checks a key on every operation of a KV-backed class; SQLite-backed classes only limit rows. */
export function assertKeySize(kind: StorageKind, key: string): void {
  if (kind !== "kv") return;
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > KV_MAX_KEY_BYTES) {
    throw new RangeError(`Keys cannot be larger than ${KV_MAX_KEY_BYTES} bytes (this key is ${bytes} bytes).`);
  }
}

export function assertEntrySize(kind: StorageKind, key: string, serialized: Uint8Array): void {
  if (kind === "kv") {
    assertKeySize(kind, key);
    if (serialized.byteLength > KV_ENFORCED_MAX_VALUE_BYTES) {
      throw new RangeError(
        `Values cannot be larger than ${KV_MAX_VALUE_BYTES} bytes once serialized ` +
          `(the value for key "${shorten(key)}" is ${serialized.byteLength} bytes).`,
      );
    }
    return;
  }
  const total = Buffer.byteLength(key, "utf8") + serialized.byteLength;
  if (total > SQLITE_MAX_ROW_BYTES) {
    throw new RangeError(
      `A key and its serialized value cannot be larger than ${SQLITE_MAX_ROW_BYTES} bytes together ` +
        `(key "${shorten(key)}" with its value is ${total} bytes).`,
    );
  }
}

function shorten(key: string): string {
  return key.length > 40 ? `${key.slice(0, 40)}…` : key;
}
