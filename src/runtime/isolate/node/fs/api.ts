/**
 * The `node:fs` module object: the sync functions, their callback forms, streams, classes,
 * constants, and the APIs Cloudflare leaves unimplemented (glob, watch), which throw.
 *
 * Callback forms do the work at once (all VFS work is synchronous, as on Cloudflare) and call back
 * in a microtask, so the callback never runs before the caller's own code has finished. Argument
 * errors (TypeError, RangeError) throw synchronously, as in Node; file-system errors go to the callback.
 */
import { Buffer } from "node:buffer";
import { isView } from "./args.js";
import { constants } from "./constants.js";
import { invalidArgType, notImplemented } from "./errors.js";
import type { Core } from "./fds.js";
import { promisesApi } from "./promises.js";
import { Dir, Dirent, Stats } from "./stats.js";
import { streamClasses } from "./streams.js";
import { fdOps } from "./sync-fds.js";
import { pathOps } from "./sync-paths.js";

export type SyncApi = ReturnType<typeof pathOps> & ReturnType<typeof fdOps>;
type Callback = (...args: unknown[]) => void;

/** The functions whose callback form is `name(...args, (err, result) => …)`. */
const CALLBACK_FORMS = [
  "access", "appendFile", "chmod", "chown", "copyFile", "cp", "fchmod", "fchown", "fdatasync", "fstat",
  "fsync", "ftruncate", "futimes", "lchmod", "lchown", "link", "lstat", "lutimes", "mkdir", "mkdtemp",
  "open", "opendir", "readFile", "readdir", "readlink", "realpath", "rename", "rm", "rmdir", "stat",
  "statfs", "symlink", "truncate", "unlink", "utimes", "writeFile",
] as const;

/** Node lets a default read buffer stand in when none is given. */
const DEFAULT_READ_BUFFER = 16384;

function callbackArg(cb: unknown): Callback {
  if (typeof cb !== "function") throw invalidArgType("cb", "of type function", cb);
  return cb as Callback;
}

/** Run `work` now; hand its results (or its fs error) to `cb` in a microtask. */
function deliver(cb: Callback, work: () => unknown[]): void {
  let args: unknown[];
  try {
    args = [null, ...work()];
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw err;
    args = [err];
  }
  queueMicrotask(() => cb(...args));
}

function callbackForm(fn: (...args: unknown[]) => unknown): (...args: unknown[]) => void {
  return (...args) => {
    const cb = callbackArg(args.pop());
    deliver(cb, () => {
      const result = fn(...args);
      return result === undefined ? [] : [result];
    });
  };
}

export function buildFs(core: Core) {
  const sync: SyncApi = { ...pathOps(core), ...fdOps(core) };
  const { ReadStream, WriteStream } = streamClasses(sync);
  const promises = promisesApi(sync, { ReadStream, WriteStream });

  const callbacks: Record<string, unknown> = {};
  for (const name of CALLBACK_FORMS) {
    callbacks[name] = callbackForm(sync[`${name}Sync`] as (...args: unknown[]) => unknown);
  }
  const realpathSync = Object.assign(sync.realpathSync, { native: sync.realpathSync });
  const realpath = Object.assign(callbacks.realpath as Callback, { native: callbacks.realpath });

  const fs = {
    ...sync,
    ...callbacks,
    realpathSync,
    realpath,

    /** `close(fd)` without a callback is allowed. */
    close(fd: unknown, cb?: unknown): void {
      deliver(cb === undefined ? () => {} : callbackArg(cb), () => (sync.closeSync(fd), []));
    },

    exists(path: unknown, cb: unknown): void {
      const done = callbackArg(cb);
      const found = sync.existsSync(path);
      queueMicrotask(() => done(found));
    },

    /** read(fd, buffer, offset, length, position, cb), read(fd, buffer, options, cb), read(fd, options, cb), read(fd, cb). */
    read(fd: unknown, ...rest: unknown[]): void {
      const cb = callbackArg(rest.pop());
      deliver(cb, () => {
        if (rest.length === 0 || (!isView(rest[0]) && typeof rest[0] === "object" && rest[0] !== null)) {
          const o = (rest[0] ?? {}) as { buffer?: ArrayBufferView; offset?: number; length?: number; position?: number | null };
          const buffer = o.buffer ?? Buffer.alloc(DEFAULT_READ_BUFFER);
          return [sync.readSync(fd, buffer, { offset: o.offset, length: o.length, position: o.position }), buffer];
        }
        return [sync.readSync(fd, rest[0], rest[1], rest[2], rest[3]), rest[0]];
      });
    },

    /** write(fd, buffer, [offset, [length, [position]]], cb), write(fd, string, [position, [encoding]], cb). */
    write(fd: unknown, data: unknown, ...rest: unknown[]): void {
      const cb = callbackArg(rest.pop());
      deliver(cb, () => [sync.writeSync(fd, data, rest[0], rest[1], rest[2]), data]);
    },

    readv(fd: unknown, buffers: unknown, ...rest: unknown[]): void {
      const cb = callbackArg(rest.pop());
      deliver(cb, () => [sync.readvSync(fd, buffers, rest[0]), buffers]);
    },

    writev(fd: unknown, buffers: unknown, ...rest: unknown[]): void {
      const cb = callbackArg(rest.pop());
      deliver(cb, () => [sync.writevSync(fd, buffers, rest[0]), buffers]);
    },

    createReadStream: (path: unknown, opts?: unknown) => new ReadStream(path, opts),
    createWriteStream: (path: unknown, opts?: unknown) => new WriteStream(path, opts),
    ReadStream,
    WriteStream,

    async openAsBlob(path: unknown, opts?: { type?: string }): Promise<Blob> {
      return new Blob([sync.readFileSync(path) as Buffer], { type: opts?.type ?? "" });
    },

    glob: (): never => {
      throw notImplemented("glob");
    },
    globSync: (): never => {
      throw notImplemented("globSync");
    },
    watch: (): never => {
      throw notImplemented("watch");
    },
    watchFile: (): never => {
      throw notImplemented("watchFile");
    },
    unwatchFile: (): never => {
      throw notImplemented("unwatchFile");
    },

    Stats,
    Dirent,
    Dir,
    constants,
    F_OK: constants.F_OK,
    R_OK: constants.R_OK,
    W_OK: constants.W_OK,
    X_OK: constants.X_OK,
    promises,
  };
  return { fs, promises };
}
