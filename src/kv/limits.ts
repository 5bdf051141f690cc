/**
 * Workers KV limits and the errors Cloudflare raises when they are broken. Shared by the binding
 * (`namespace.ts`) and the CLI so both reject the same inputs with the same words.
 *
 * Message shapes follow workerd: checks workerd makes in the runtime itself (empty key, `.`/`..`,
 * an unknown `type`, an unsupported value type) are `TypeError`s; checks the KV service makes
 * surface as `Error("KV <METHOD> failed: <status> <reason>")`, because workerd turns the service's
 * HTTP error status into that text.
 *
 * This module runs inside the isolate too, so it uses only the realm's `TextEncoder`.
 */

export const KV_LIMITS = {
  /** Longest key, in UTF-8 bytes. */
  maxKeyBytes: 512,
  /** Largest value, in bytes (25 MiB). */
  maxValueBytes: 25 * 1024 * 1024,
  /** Largest `JSON.stringify(metadata)`, in UTF-8 bytes. */
  maxMetadataBytes: 1024,
  /** Shortest `expirationTtl`, and how far ahead an absolute `expiration` must be, in seconds. */
  minExpirationTtlSeconds: 60,
  /** Smallest accepted `cacheTtl`, in seconds (2026 limits page; older pages said 60). */
  minCacheTtlSeconds: 30,
  /** Largest and default `list()` page. */
  maxListLimit: 1000,
  /** Most keys in one bulk `get()`. */
  maxBulkGetKeys: 100,
  /** Most bytes one bulk `get()` may return (25 MiB). */
  maxBulkGetBytes: 25 * 1024 * 1024,
} as const;

export type KvMethod = "GET" | "GET_BULK" | "PUT" | "DELETE";

const encoder = new TextEncoder();

export function utf8Length(s: string): number {
  return encoder.encode(s).byteLength;
}

/** The error the KV service returns for a request it refuses, as workerd shows it to user code. */
export function kvServiceError(method: KvMethod, status: number, reason: string): Error {
  return new Error(`KV ${method} failed: ${status} ${reason}`);
}

/** Checks a key the way workerd does before any request is made. */
export function validateKey(method: KvMethod, key: string): void {
  if (key === "") throw new TypeError("Key name cannot be empty.");
  if (key === "." || key === "..") throw new TypeError(`"${key}" is not allowed as a key name.`);
  const bytes = utf8Length(key);
  if (bytes > KV_LIMITS.maxKeyBytes) {
    throw kvServiceError(
      method,
      414,
      `UTF-8 encoded length of ${bytes} exceeds key length limit of ${KV_LIMITS.maxKeyBytes}.`,
    );
  }
}

/** A list prefix may be anything a key may be, except empty (empty means "no prefix"). */
export function validatePrefix(prefix: string): void {
  const bytes = utf8Length(prefix);
  if (bytes > KV_LIMITS.maxKeyBytes) {
    throw kvServiceError(
      "GET",
      414,
      `UTF-8 encoded length of ${bytes} exceeds key length limit of ${KV_LIMITS.maxKeyBytes}.`,
    );
  }
}

export function validateCacheTtl(method: KvMethod, cacheTtl: unknown): void {
  if (cacheTtl === undefined) return;
  const n = Number(cacheTtl);
  if (!Number.isFinite(n) || n < KV_LIMITS.minCacheTtlSeconds) {
    throw kvServiceError(
      method,
      400,
      `Invalid cache_ttl of ${String(cacheTtl)}. Cache TTL must be at least ${KV_LIMITS.minCacheTtlSeconds}.`,
    );
  }
}

export function valueTooLarge(bytes: number): Error {
  return kvServiceError("PUT", 413, `Value length of ${bytes} exceeds limit of ${KV_LIMITS.maxValueBytes}.`);
}

export interface PutOptionsInput {
  /** Absolute expiry, epoch seconds; at least 60 s after now. */
  expiration?: unknown;
  /** Relative expiry in seconds; at least 60. Wins over `expiration` when both are given. */
  expirationTtl?: unknown;
  /** Any JSON-serializable value, at most 1,024 bytes once serialized; `null` means none. */
  metadata?: unknown;
}

export interface ValidatedPutOptions {
  /** Epoch seconds, or null for a key that never expires. */
  expiration: number | null;
  /** The metadata to store, or undefined for none. */
  metadata: unknown;
}

/**
 * Validates `put()` options against the clock and turns `expirationTtl` into an absolute epoch
 * second. Fractions of a second are dropped, as the service stores whole seconds.
 */
export function validatePutOptions(opts: PutOptionsInput | undefined, nowMs: number): ValidatedPutOptions {
  const nowSeconds = Math.floor(nowMs / 1000);
  let expiration: number | null = null;
  if (opts?.expirationTtl !== undefined && opts.expirationTtl !== null) {
    const raw = opts.expirationTtl;
    const ttl = Math.floor(Number(raw));
    if (!Number.isFinite(ttl) || ttl <= 0) {
      throw kvServiceError("PUT", 400, `Invalid expiration_ttl of ${String(raw)}. Please specify integer greater than 0.`);
    }
    if (ttl < KV_LIMITS.minExpirationTtlSeconds) {
      throw kvServiceError(
        "PUT",
        400,
        `Invalid expiration_ttl of ${String(raw)}. Expiration TTL must be at least ${KV_LIMITS.minExpirationTtlSeconds}.`,
      );
    }
    expiration = nowSeconds + ttl;
  } else if (opts?.expiration !== undefined && opts.expiration !== null) {
    const raw = opts.expiration;
    const at = Math.floor(Number(raw));
    if (!Number.isFinite(at) || at <= nowSeconds) {
      throw kvServiceError(
        "PUT",
        400,
        `Invalid expiration of ${String(raw)}. Please specify integer greater than the current number of seconds since the UNIX epoch.`,
      );
    }
    if (at < nowSeconds + KV_LIMITS.minExpirationTtlSeconds) {
      throw kvServiceError(
        "PUT",
        400,
        `Invalid expiration of ${String(raw)}. Expiration times must be at least ${KV_LIMITS.minExpirationTtlSeconds} seconds in the future.`,
      );
    }
    expiration = at;
  }

  let metadata: unknown = undefined;
  if (opts?.metadata !== undefined && opts.metadata !== null) {
    // JSON.stringify throws a TypeError for cycles and BigInt, which is also what workerd does when
    // it serializes the metadata; values it cannot represent at all (a bare function) mean "none".
    const json = JSON.stringify(opts.metadata) as string | undefined;
    if (json !== undefined) {
      const bytes = utf8Length(json);
      if (bytes > KV_LIMITS.maxMetadataBytes) {
        throw kvServiceError("PUT", 413, `Metadata length of ${bytes} exceeds limit of ${KV_LIMITS.maxMetadataBytes}.`);
      }
      // Store what a JSON round trip gives back, so reads return the same shape Cloudflare would
      // (no `undefined` members, dates as strings) whichever connection reads it.
      metadata = JSON.parse(json);
    }
  }
  return { expiration, metadata };
}

/**
 * Validates a `list()` limit. workerd sends the limit only when it is positive, so 0 or a negative
 * number means "the default" rather than an error; above 1,000 is refused by the service.
 */
export function normalizeListLimit(limit: unknown): number {
  if (limit === undefined || limit === null) return KV_LIMITS.maxListLimit;
  const n = Math.floor(Number(limit));
  if (Number.isNaN(n)) {
    throw kvServiceError("GET", 400, `Invalid key_count_limit of ${String(limit)}. Please specify an integer greater than 0.`);
  }
  if (n <= 0) return KV_LIMITS.maxListLimit;
  if (n > KV_LIMITS.maxListLimit) {
    throw kvServiceError(
      "GET",
      400,
      `Invalid key_count_limit of ${String(limit)}. Please specify an integer less than or equal to ${KV_LIMITS.maxListLimit}.`,
    );
  }
  return n;
}
