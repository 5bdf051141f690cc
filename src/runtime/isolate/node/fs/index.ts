/**
 * Cloudflare's virtual file system, as the isolate runtime provides it to user code for `node:fs`,
 * `node:fs/promises`, `fs` and `fs/promises` (developers.cloudflare.com/workers/runtime-apis/nodejs/fs):
 *
 *   /bundle  read-only, one file per module of the Worker bundle
 *   /tmp     writable (files, directories, symbolic links), private to each request
 *   /dev     null, zero, full, random
 *
 * Everything lives in memory: no path ever reaches the host's disk, and nothing in this folder
 * imports the host's `node:fs`. Writes outside /tmp fail with EPERM (as on Cloudflare), paths
 * outside the three mounts with ENOENT. All work is synchronous; the callback and promise forms
 * only deliver results later. The glob and watch APIs throw ERR_METHOD_NOT_IMPLEMENTED.
 *
 * Example (how the isolate runtime wires it, one per isolate):
 *
 *   const tmpOf = new AsyncLocalStorage<TmpStore>();
 *   const global = createTmpStore();
 *   const { fs, promises } = createVirtualFs({
 *     bundleFiles: () => new Map([["worker.js", workerBytes], ["config.txt", configBytes]]),
 *     tmp: () => tmpOf.getStore() ?? global,
 *   });
 *   // per request: tmpOf.run(createTmpStore(), () => handler(request));
 */
import { buildFs } from "./api.js";
import { Fds } from "./fds.js";
import { TmpStore, Tree } from "./tree.js";

export interface VirtualFsOptions {
  /** The bundle's modules, name → bytes (a name may hold slashes: "lib/util.js"); called once, on first use of /bundle. */
  bundleFiles: () => Map<string, Uint8Array>;
  /** The store that /tmp shows now: the current request's; called on every path lookup. */
  tmp: () => TmpStore;
}

export type VirtualFs = ReturnType<typeof buildFs>;
export type FsModule = VirtualFs["fs"];
export type FsPromisesModule = VirtualFs["promises"];

/** One isolate's file system. Cheap to create: nothing is built before first use. */
export function createVirtualFs(opts: VirtualFsOptions): VirtualFs {
  return buildFs({ tree: new Tree(opts.bundleFiles, opts.tmp), fds: new Fds() });
}

/** A fresh, empty /tmp. `maxBytes`: bound on its files' total size in bytes, default 128 MiB (≥ 0); past it writes fail with ENOSPC. */
export function createTmpStore(opts: { maxBytes?: number } = {}): TmpStore {
  return new TmpStore(opts.maxBytes);
}

export type { TmpStore };
export { DEFAULT_TMP_BYTES, MAX_FILE_BYTES } from "./tree.js";
export { MAX_OPEN_FILES } from "./fds.js";
