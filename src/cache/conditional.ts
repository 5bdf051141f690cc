/**
 * The request headers `cache.match()` honours: `If-None-Match` and `If-Modified-Since` (answered
 * with 304) and `Range` (answered with 206 or 416), evaluated against a stored entry's headers.
 * Pure functions of header values, following RFC 9110 §13 and §14.
 */

const ENTITY_TAG = /(W\/)?"([^"]*)"/g;

interface EntityTag {
  weak: boolean;
  opaque: string;
}

function parseEntityTags(value: string): EntityTag[] {
  return [...value.matchAll(ENTITY_TAG)].map((m) => ({ weak: m[1] !== undefined, opaque: m[2]! }));
}

/**
 * True when the request's validators say the client's copy is current, so a 304 is the answer.
 * `If-None-Match` uses weak comparison and, when present, makes `If-Modified-Since` irrelevant
 * (RFC 9110 §13.1.3). `If-None-Match: *` matches any stored entry.
 */
export function isNotModified(request: Headers, stored: Headers): boolean {
  const ifNoneMatch = request.get("if-none-match");
  if (ifNoneMatch !== null) {
    if (ifNoneMatch.trim() === "*") return true;
    const etag = stored.get("etag");
    if (etag === null) return false;
    const current = parseEntityTags(etag)[0];
    if (current === undefined) return false;
    return parseEntityTags(ifNoneMatch).some((tag) => tag.opaque === current.opaque);
  }
  const ifModifiedSince = request.get("if-modified-since");
  const lastModified = stored.get("last-modified");
  if (ifModifiedSince === null || lastModified === null) return false;
  const since = Date.parse(ifModifiedSince);
  const modified = Date.parse(lastModified);
  // An unparseable date on either side makes the comparison false, so the full response is sent.
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
}

/** An inclusive byte range, as `Content-Range` writes it. */
export interface ByteRange {
  start: number;
  end: number;
}

export type RangeSelection =
  | { kind: "full" }
  | { kind: "partial"; ranges: ByteRange[] }
  | { kind: "unsatisfiable" };

/**
 * Beyond this many ranges in one header the header is ignored and the full body is sent: a
 * client asking for hundreds of slices is more likely an amplification attempt than a reader.
 */
export const MAX_RANGES = 100;

/**
 * Interprets a `Range` header against a body of `size` bytes. A header that is absent, not in
 * bytes, or syntactically invalid is ignored (RFC 9110 §14.2), which means a 200 with the full
 * body. Ranges that start past the end are dropped; if none is left the answer is 416. Overlapping
 * ranges are served as asked, not merged.
 */
export function selectRanges(header: string | null, size: number): RangeSelection {
  if (header === null) return { kind: "full" };
  const match = /^\s*bytes\s*=(.*)$/i.exec(header);
  if (match === null) return { kind: "full" };
  const specs = match[1]!.split(",").map((s) => s.trim());
  if (specs.length > MAX_RANGES) return { kind: "full" };

  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const parts = /^(\d*)-(\d*)$/.exec(spec);
    if (parts === null) return { kind: "full" };
    const [, first, last] = parts as unknown as [string, string, string];
    if (first === "") {
      // Suffix form `-n`: the last n bytes.
      if (last === "") return { kind: "full" };
      const length = Number(last);
      if (length === 0 || size === 0) continue;
      ranges.push({ start: Math.max(0, size - length), end: size - 1 });
      continue;
    }
    const start = Number(first);
    if (last !== "" && Number(last) < start) return { kind: "full" };
    if (start >= size) continue;
    ranges.push({ start, end: last === "" ? size - 1 : Math.min(Number(last), size - 1) });
  }
  return ranges.length === 0 ? { kind: "unsatisfiable" } : { kind: "partial", ranges };
}

/**
 * `If-Range` (RFC 9110 §13.1.5): the range applies only if the stored entry is still the one the
 * client holds, compared strongly by entity tag or exactly by `Last-Modified`. Without the header
 * the range always applies.
 */
export function rangeApplies(request: Headers, stored: Headers): boolean {
  const ifRange = request.get("if-range");
  if (ifRange === null) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith("W/")) {
    const wanted = parseEntityTags(value)[0];
    const current = parseEntityTags(stored.get("etag") ?? "")[0];
    return (
      wanted !== undefined && current !== undefined && !wanted.weak && !current.weak && wanted.opaque === current.opaque
    );
  }
  const since = Date.parse(value);
  const modified = Date.parse(stored.get("last-modified") ?? "");
  return !Number.isNaN(since) && since === modified;
}
