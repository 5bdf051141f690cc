/**
 * Errors of the virtual file system, shaped as Node's: a file-system failure is an `Error` with
 * `code` ("ENOENT"), a negative `errno`, `syscall`, `path` (and `dest`), and the message
 * "ENOENT: no such file or directory, open '/etc/passwd'"; a bad argument is a `TypeError` or
 * `RangeError` with an `ERR_*` code. The errno numbers are Linux's on every host, so user code sees
 * the same values wherever Ledge runs.
 */

const ERRNO = {
  EPERM: [1, "operation not permitted"],
  ENOENT: [2, "no such file or directory"],
  EBADF: [9, "bad file descriptor"],
  EACCES: [13, "permission denied"],
  EEXIST: [17, "file already exists"],
  EXDEV: [18, "cross-device link not permitted"],
  ENOTDIR: [20, "not a directory"],
  EISDIR: [21, "illegal operation on a directory"],
  EINVAL: [22, "invalid argument"],
  EMFILE: [24, "too many open files"],
  ENOSPC: [28, "no space left on device"],
  ENAMETOOLONG: [36, "name too long"],
  ENOTEMPTY: [39, "directory not empty"],
  ELOOP: [40, "too many symbolic links encountered"],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrnoCode = keyof typeof ERRNO;

export interface FsError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  dest?: string;
}

/** A Node-style file-system error; `detail` replaces the generic description when given. */
export function fsError(code: ErrnoCode, syscall: string, path?: string, dest?: string, detail?: string): FsError {
  const [errno, description] = ERRNO[code];
  let message = `${code}: ${detail ?? description}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  const err = new Error(message) as FsError;
  err.errno = -errno;
  err.code = code;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  if (dest !== undefined) err.dest = dest;
  return err;
}

/** `rm` of a directory without `recursive`: Node reports it as a SystemError with its own code. */
export function rmIsDirError(path: string): FsError {
  const err = new Error(`Path is a directory: rm returned EISDIR (is a directory) ${path}`) as FsError;
  err.code = "ERR_FS_EISDIR";
  err.errno = ERRNO.EISDIR[0];
  err.syscall = "rm";
  err.path = path;
  return err;
}

function withCode<E extends Error>(err: E, code: string): E & { code: string } {
  return Object.assign(err, { code });
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return ` Received ${value}`;
  if (typeof value === "function") return ` Received function ${value.name || "<anonymous>"}`;
  if (typeof value === "object") return ` Received an instance of ${value.constructor?.name ?? "Object"}`;
  const shown = typeof value === "string" && value.length > 28 ? `${value.slice(0, 25)}...` : String(value);
  return ` Received type ${typeof value} (${typeof value === "string" ? `'${shown}'` : shown})`;
}

export function invalidArgType(name: string, expected: string, actual: unknown): TypeError {
  return withCode(new TypeError(`The "${name}" argument must be ${expected}.${describe(actual)}`), "ERR_INVALID_ARG_TYPE");
}

export function invalidArgValue(name: string, value: unknown, reason = "is invalid"): TypeError {
  const shown = typeof value === "string" ? `'${value}'` : String(value);
  return withCode(new TypeError(`The argument '${name}' ${reason}. Received ${shown}`), "ERR_INVALID_ARG_VALUE");
}

export function outOfRange(name: string, range: string, actual: unknown): RangeError {
  return withCode(
    new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${String(actual)}`),
    "ERR_OUT_OF_RANGE",
  );
}

/**
 * The glob and watch APIs: Cloudflare's node:fs does not implement them (there is nothing to watch
 * in a per-request memory file system), so neither does Ledge's.
 */
export function notImplemented(method: string): Error {
  return withCode(
    new Error(`The fs.${method}() method is not implemented: Cloudflare Workers' node:fs has no glob or watch APIs`),
    "ERR_METHOD_NOT_IMPLEMENTED",
  );
}

export function dirClosed(): Error {
  return withCode(new Error("Directory handle was closed"), "ERR_DIR_CLOSED");
}
