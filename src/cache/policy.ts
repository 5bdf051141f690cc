/**
 * Decides whether a response given to `cache.put()` is stored, for how long, and with which headers.
 *
 * The rules are Cloudflare's documented ones for the Workers Cache API (developers.cloudflare.com:
 * "Cache" runtime API, "Origin Cache Control", "Default cache behavior", "Edge TTL"), which with
 * Origin Cache Control enabled (the default on every plan but Enterprise) follow RFC 9111 for a
 * shared cache. Only the subset that a cache without an origin can honour is implemented: a stored
 * entry is either fresh (served) or not (never served), because `cache.match()` never revalidates.
 *
 * Everything here is pure: time comes in as `now` (epoch milliseconds).
 */

/** Cache-Control directives by lower-case name; `undefined` when a directive has no `=value`. */
export type CacheDirectives = ReadonlyMap<string, string | undefined>;

/**
 * Parses a Cache-Control value. Commas inside quoted strings (as in `private="Set-Cookie, X-A"`) do
 * not split directives. When a directive repeats, the first occurrence wins, as RFC 9111 §4.2.1
 * allows.
 */
export function parseCacheControl(value: string | null): CacheDirectives {
  const directives = new Map<string, string | undefined>();
  if (value === null) return directives;
  for (const part of splitOutsideQuotes(value)) {
    const eq = part.indexOf("=");
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === "" || directives.has(name)) continue;
    directives.set(name, eq === -1 ? undefined : unquote(part.slice(eq + 1).trim()));
  }
  return directives;
}

function splitOutsideQuotes(value: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quoted && ch === "\\" && i + 1 < value.length) {
      current += ch + value[++i];
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === "," && !quoted) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return value;
}

/** Lower-case header names listed in a directive argument such as `private="Set-Cookie, X-A"`. */
function fieldNames(argument: string): string[] {
  return argument
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
}

/**
 * Seconds a response stays fresh when it carries neither a freshness directive nor `Expires`
 * (Cloudflare's "Edge TTL" defaults). Other statuses are not cached without explicit freshness.
 */
export const DEFAULT_TTL_SECONDS_BY_STATUS: ReadonlyMap<number, number> = new Map([
  [200, 7200],
  [206, 7200],
  [301, 7200],
  [302, 1200],
  [303, 1200],
  [404, 180],
  [410, 180],
]);

/** Why a response was not stored; each value maps to one documented rule. */
export type NotStoredReason =
  | "no-store"
  | "private"
  | "no-cache"
  | "set-cookie"
  | "authorization"
  | "no-default-ttl"
  | "stale";

export type StorePlan =
  | { store: false; reason: NotStoredReason }
  | {
      store: true;
      /** Epoch milliseconds after which the entry is never served. */
      expiresAt: number;
      /** The response's own `Age` in seconds when it was put, added to the age served on a hit. */
      initialAgeSec: number;
      /** Headers to store: the response's, minus any that `private=<fields>` names. */
      headers: [string, string][];
    };

export interface StoreInput {
  status: number;
  headers: Headers;
  /** Whether the request used as the key carried `Authorization`. */
  requestHasAuthorization: boolean;
  now: number;
}

/** RFC 9111 §1.2.2: delta-seconds larger than 2^31 are treated as 2^31. */
const MAX_DELTA_SECONDS = 2 ** 31;

/**
 * Parses a delta-seconds argument. A directive whose argument is missing or not a non-negative
 * integer yields 0, so the response counts as stale: RFC 9111 §4.2.1 encourages caches to treat
 * invalid freshness information that way rather than guess.
 */
function deltaSeconds(argument: string | undefined): number {
  if (argument === undefined || !/^\d+$/.test(argument)) return 0;
  return Math.min(Number(argument), MAX_DELTA_SECONDS);
}

/**
 * Freshness lifetime in milliseconds from, in order of precedence, `s-maxage`, `max-age`, `Expires`
 * (measured from `Date` when the response has a valid one, otherwise from `now`), or the Edge TTL
 * default for the status. `undefined` means the status has no default and nothing was explicit.
 */
export function freshnessLifetimeMs(
  status: number,
  headers: Headers,
  directives: CacheDirectives,
  now: number,
): number | undefined {
  if (directives.has("s-maxage")) return deltaSeconds(directives.get("s-maxage")) * 1000;
  if (directives.has("max-age")) return deltaSeconds(directives.get("max-age")) * 1000;
  const expires = headers.get("expires");
  if (expires !== null) {
    // RFC 9111 §5.3: an invalid Expires (notably "0") means "already expired".
    const expiresAt = Date.parse(expires);
    if (Number.isNaN(expiresAt)) return 0;
    const date = Date.parse(headers.get("date") ?? "");
    return Math.max(0, expiresAt - (Number.isNaN(date) ? now : date));
  }
  const defaultSeconds = DEFAULT_TTL_SECONDS_BY_STATUS.get(status);
  return defaultSeconds === undefined ? undefined : defaultSeconds * 1000;
}

/** The response's `Age` header in whole seconds, or 0 when absent or malformed. */
function initialAgeSeconds(headers: Headers): number {
  const age = headers.get("age");
  return age !== null && /^\d+$/.test(age.trim()) ? Math.min(Number(age.trim()), MAX_DELTA_SECONDS) : 0;
}

/**
 * Applies the storage rules in the order Cloudflare documents them. The caller has already thrown
 * for what `put()` rejects outright (non-GET, 206, `Vary: *`, WebSocket, error responses) and
 * silently dropped 304s.
 */
export function planStore(input: StoreInput): StorePlan {
  const { status, headers, now } = input;
  const directives = parseCacheControl(headers.get("cache-control"));

  if (directives.has("no-store")) return { store: false, reason: "no-store" };

  // Bare `private` forbids a shared cache from storing anything; `private=<fields>` only forbids
  // storing those fields, which is how `private=Set-Cookie` lets a cookie-setting response in.
  const stripped = new Set<string>();
  if (directives.has("private")) {
    const argument = directives.get("private");
    if (argument === undefined) return { store: false, reason: "private" };
    for (const name of fieldNames(argument)) stripped.add(name);
  }

  // Bare `no-cache` means "always revalidate"; with no origin to revalidate against, Cloudflare's
  // default cache behaviour page lists it among the directives that are not cached. The field-list
  // form only requires revalidation when one of the listed headers is present.
  if (directives.has("no-cache")) {
    const argument = directives.get("no-cache");
    if (argument === undefined) return { store: false, reason: "no-cache" };
    if (fieldNames(argument).some((name) => headers.has(name))) return { store: false, reason: "no-cache" };
  }

  if (headers.has("set-cookie") && !stripped.has("set-cookie")) return { store: false, reason: "set-cookie" };

  // RFC 9111 §3.5, as Cloudflare's Origin Cache Control table states it: a response to a request
  // with credentials is only shared when the response explicitly allows it.
  if (
    input.requestHasAuthorization &&
    !directives.has("public") &&
    !directives.has("s-maxage") &&
    !directives.has("must-revalidate")
  ) {
    return { store: false, reason: "authorization" };
  }

  const lifetimeMs = freshnessLifetimeMs(status, headers, directives, now);
  if (lifetimeMs === undefined) return { store: false, reason: "no-default-ttl" };
  const initialAgeSec = initialAgeSeconds(headers);
  const remainingMs = lifetimeMs - initialAgeSec * 1000;
  if (remainingMs <= 0) return { store: false, reason: "stale" };

  const kept: [string, string][] = [];
  for (const [name, value] of headers) {
    if (!stripped.has(name.toLowerCase())) kept.push([name, value]);
  }
  return { store: true, expiresAt: now + remainingMs, initialAgeSec, headers: kept };
}
