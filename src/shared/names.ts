/**
 * Rules for the names in a config that become parts of file paths: Worker (app) names, Durable
 * Object class names and KV namespace ids. The config validator reports a broken rule with the
 * field that holds the name; the storage code applies the same rules (and `insideRoot`) where it
 * builds each path. Each check returns undefined when the name is fine, otherwise a short
 * description of what is expected, written to follow "expected ...".
 */
import { Buffer } from "node:buffer";

/** Cloudflare's limit on a Worker name (it is a DNS label in `<name>.<subdomain>.workers.dev`). */
export const MAX_WORKER_NAME_LENGTH = 63;

/** The longest Durable Object class name; with the app name it names a folder, which file systems cap at 255 bytes. */
export const MAX_CLASS_NAME_LENGTH = 128;

/** The longest file name a KV namespace id may produce, leaving room for `.sqlite-wal` under 255 bytes. */
export const MAX_KV_ID_FILE_NAME = 200;

/** wrangler's rule for `name` (workers-sdk `isValidName`): lowercase letters, digits, `_` and `-`. */
const WORKER_NAME = /^[a-z0-9_][a-z0-9_-]*$/;

/**
 * Any name an app runs under: a `name` that passed WORKER_NAME, the project folder's name made
 * safe (its case is kept, so state stored under it stays where it is), or either with `-<env>`.
 */
const APP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** A JavaScript class name, ASCII only: the class is an export of the Worker's main module. */
const CLASS_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The `name` a user writes. Example: `workerNameProblem("My App")` → "lowercase letters, ...". */
export function workerNameProblem(name: string): string | undefined {
  if (WORKER_NAME.test(name) && name.length <= MAX_WORKER_NAME_LENGTH) return undefined;
  return `a Worker name of at most ${MAX_WORKER_NAME_LENGTH} characters: lowercase letters, digits, "-" and "_", not starting with "-" (Cloudflare's rule)`;
}

/** The name an app actually runs under (also names its state folders), and `script_name`. */
export function appNameProblem(name: string): string | undefined {
  if (APP_NAME.test(name) && name.length <= MAX_WORKER_NAME_LENGTH) return undefined;
  return `a Worker name of at most ${MAX_WORKER_NAME_LENGTH} characters: letters, digits, "-" and "_", not starting with "-"`;
}

export function classNameProblem(name: string): string | undefined {
  if (CLASS_NAME.test(name) && name.length <= MAX_CLASS_NAME_LENGTH) return undefined;
  return `a JavaScript class name of at most ${MAX_CLASS_NAME_LENGTH} characters: ASCII letters, digits, "_" and "$", not starting with a digit`;
}

/**
 * KV namespace ids are usually 32 hex digits or a binding name. Any other character is kept but
 * percent-encoded in the file name (see `kvIdFileName`), so only names that would leave the
 * folder, or make a file name too long, are refused.
 */
export function kvNamespaceIdProblem(id: string): string | undefined {
  if (id === "" || id === "." || id === ".." || /[/\\\0]/.test(id)) {
    return `a namespace id that is not empty, "." or "..", and contains no "/", "\\" or NUL`;
  }
  const length = kvIdFileName(id).length;
  if (length > MAX_KV_ID_FILE_NAME) {
    return `a shorter namespace id (this one is too long: ${length} characters once encoded for its file name, at most ${MAX_KV_ID_FILE_NAME})`;
  }
  return undefined;
}

/**
 * The file name (without `.sqlite`) of a namespace id: letters, digits, `_`, `-` and inner dots
 * as they are, every other byte as `%XX` (and `%` itself, so the mapping stays one-to-one).
 * Example: `kvIdFileName("a b")` → `a%20b`.
 */
export function kvIdFileName(id: string): string {
  let out = "";
  for (const byte of Buffer.from(id, "utf8")) {
    const ch = String.fromCharCode(byte);
    // A leading dot would make a hidden file; dots elsewhere are kept for readable ids.
    const safe = /[A-Za-z0-9_-]/.test(ch) || (ch === "." && out !== "");
    out += safe ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
