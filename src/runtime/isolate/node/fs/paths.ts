/**
 * Paths as the virtual file system sees them: a string, Buffer or `file:` URL, made absolute
 * against `/` (workerd resolves relative paths against the root too: it has no working directory
 * for node:fs) and normalized lexically, so `..` never climbs out through a symbolic link and
 * `/tmp/../etc/passwd` is simply `/etc/passwd`. Cloudflare's limits apply: at most 4,096
 * characters and 48 segments.
 */
import { Buffer } from "node:buffer";
import { fsError, invalidArgType, invalidArgValue } from "./errors.js";

export const MAX_PATH_CHARS = 4096;
export const MAX_PATH_SEGMENTS = 48;

export interface ParsedPath {
  /** The path's segments after normalization; `[]` is the root. */
  segs: string[];
  /** The text user code passed (made a string), for error messages. */
  text: string;
  /** A trailing slash: the path must name a directory. */
  dirOnly: boolean;
}

const PATH_TYPES = "of type string or an instance of Buffer or URL";

function isUrlLike(p: object): p is URL {
  return p instanceof URL || (typeof (p as URL).href === "string" && typeof (p as URL).protocol === "string");
}

function fromFileUrl(url: URL): string {
  if (url.protocol !== "file:") {
    throw Object.assign(new TypeError("The URL must be of scheme file"), { code: "ERR_INVALID_URL_SCHEME" });
  }
  if (url.hostname !== "" && url.hostname !== "localhost") {
    throw Object.assign(new TypeError(`File URL host must be "localhost" or empty on linux`), { code: "ERR_INVALID_FILE_URL_HOST" });
  }
  if (/%2f/i.test(url.pathname)) {
    throw Object.assign(new TypeError("File URL path must not include encoded / characters"), { code: "ERR_INVALID_FILE_URL_PATH" });
  }
  return decodeURIComponent(url.pathname);
}

/** The path argument of an fs call as a string; throws Node's argument errors. */
export function pathToString(p: unknown, name = "path"): string {
  let s: string;
  if (typeof p === "string") s = p;
  else if (p instanceof Uint8Array) s = Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString("utf8");
  else if (p !== null && typeof p === "object" && isUrlLike(p)) s = fromFileUrl(p);
  else throw invalidArgType(name, PATH_TYPES, p);
  if (s.includes("\u0000")) throw invalidArgValue(name, s, "must be a string, Uint8Array, or URL without null bytes");
  return s;
}

/** Segments of `text` resolved against `base` (segments too), `.` and `..` applied lexically. */
export function resolveSegments(text: string, base: readonly string[]): string[] {
  const segs = text.startsWith("/") ? [] : [...base];
  for (const part of text.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") segs.pop();
    else segs.push(part);
  }
  return segs;
}

export function checkLimits(segs: readonly string[], syscall: string, text: string): void {
  if (segs.length > MAX_PATH_SEGMENTS) throw fsError("ENAMETOOLONG", syscall, text, undefined, "path has more than 48 segments");
  if (joinPath(segs).length > MAX_PATH_CHARS) throw fsError("ENAMETOOLONG", syscall, text, undefined, "path is longer than 4096 characters");
}

export function parsePath(p: unknown, syscall: string, name = "path"): ParsedPath {
  const text = pathToString(p, name);
  // Node: an empty path names nothing (it is not the working directory).
  if (text === "") throw fsError("ENOENT", syscall, text);
  const segs = resolveSegments(text, []);
  checkLimits(segs, syscall, text);
  return { segs, text, dirOnly: text.length > 1 && /\/\.?$/.test(text) };
}

export function joinPath(segs: readonly string[]): string {
  return `/${segs.join("/")}`;
}
