/**
 * `fs/promises`: the sync functions wrapped in promises (the work itself is synchronous, as on
 * Cloudflare), and `FileHandle` for `open()`.
 */
import { Buffer } from "node:buffer";
import { dataBytes, encodingOf, isView, options } from "./args.js";
import { constants } from "./constants.js";
import { fsError, notImplemented } from "./errors.js";
import type { streamClasses } from "./streams.js";
import type { SyncApi } from "./api.js";

type Streams = ReturnType<typeof streamClasses>;
type AnyFn = (...args: never[]) => unknown;

/** Promise form of a sync function: argument errors reject too, as in Node. */
function promised<F extends AnyFn>(fn: F): (...args: Parameters<F>) => Promise<ReturnType<F>> {
  return async (...args) => fn(...args) as ReturnType<F>;
}

/** writeFile data: a string, bytes, or an (async) iterable of them, such as a stream. */
async function collect(data: unknown, opts: unknown): Promise<unknown> {
  if (typeof data === "string" || isView(data) || data === null || typeof data !== "object") return data;
  const iterable = data as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
  if (!iterable[Symbol.asyncIterator] && !iterable[Symbol.iterator]) return data;
  const encoding = encodingOf(options(opts), "utf8");
  const chunks: Uint8Array[] = [];
  for await (const chunk of data as AsyncIterable<unknown>) chunks.push(dataBytes(chunk, encoding));
  return Buffer.concat(chunks);
}

export function promisesApi(sync: SyncApi, streams: Streams) {
  class FileHandle {
    #fd: number;
    constructor(fd: number) {
      this.#fd = fd;
    }
    /** -1 once closed. */
    get fd(): number {
      return this.#fd;
    }
    #open(syscall: string): number {
      if (this.#fd < 0) throw fsError("EBADF", syscall);
      return this.#fd;
    }
    async read(bufferOrOptions?: unknown, offset?: unknown, length?: unknown, position?: unknown) {
      const fd = this.#open("read");
      if (isView(bufferOrOptions)) {
        return { bytesRead: sync.readSync(fd, bufferOrOptions, offset, length, position), buffer: bufferOrOptions };
      }
      const o = (bufferOrOptions ?? {}) as { buffer?: ArrayBufferView; offset?: number; length?: number; position?: number | null };
      const buffer = o.buffer ?? Buffer.alloc(16384);
      return { bytesRead: sync.readSync(fd, buffer, { offset: o.offset, length: o.length, position: o.position }), buffer };
    }
    async write(data: unknown, offsetOrOptions?: unknown, length?: unknown, position?: unknown) {
      return { bytesWritten: sync.writeSync(this.#open("write"), data, offsetOrOptions, length, position), buffer: data };
    }
    async readv(buffers: ArrayBufferView[], position?: number | null) {
      return { bytesRead: sync.readvSync(this.#open("read"), buffers, position), buffers };
    }
    async writev(buffers: ArrayBufferView[], position?: number | null) {
      return { bytesWritten: sync.writevSync(this.#open("write"), buffers, position), buffers };
    }
    async readFile(opts?: unknown) {
      return sync.readFileSync(this.#open("read"), opts);
    }
    async writeFile(data: unknown, opts?: unknown) {
      sync.writeFileSync(this.#open("write"), await collect(data, opts), opts);
    }
    async appendFile(data: unknown, opts?: unknown) {
      sync.appendFileSync(this.#open("write"), await collect(data, opts), opts);
    }
    async stat(opts?: unknown) {
      return sync.fstatSync(this.#open("fstat"), opts);
    }
    async truncate(len?: number) {
      sync.ftruncateSync(this.#open("ftruncate"), len);
    }
    async sync() {
      sync.fsyncSync(this.#open("fsync"));
    }
    async datasync() {
      sync.fdatasyncSync(this.#open("fdatasync"));
    }
    async chmod(mode: unknown) {
      sync.fchmodSync(this.#open("fchmod"), mode);
    }
    async chown(uid: unknown, gid: unknown) {
      sync.fchownSync(this.#open("fchown"), uid, gid);
    }
    async utimes(atime: unknown, mtime: unknown) {
      sync.futimesSync(this.#open("futime"), atime, mtime);
    }
    /** Closing twice is fine, as in Node. */
    async close() {
      if (this.#fd < 0) return;
      const fd = this.#fd;
      this.#fd = -1;
      sync.closeSync(fd);
    }
    createReadStream(opts?: Record<string, unknown>) {
      return new streams.ReadStream(undefined, { ...opts, fd: this });
    }
    createWriteStream(opts?: Record<string, unknown>) {
      return new streams.WriteStream(undefined, { ...opts, fd: this });
    }
    async [Symbol.asyncDispose]() {
      await this.close();
    }
  }

  const pathOrHandle = (p: unknown) => (p instanceof FileHandle ? p.fd : p);

  return {
    access: promised(sync.accessSync),
    appendFile: async (path: unknown, data: unknown, opts?: unknown) => sync.appendFileSync(pathOrHandle(path), await collect(data, opts), opts),
    chmod: promised(sync.chmodSync),
    chown: promised(sync.chownSync),
    copyFile: promised(sync.copyFileSync),
    cp: promised(sync.cpSync),
    lchmod: promised(sync.lchmodSync),
    lchown: promised(sync.lchownSync),
    link: promised(sync.linkSync),
    lstat: promised(sync.lstatSync),
    lutimes: promised(sync.lutimesSync),
    mkdir: promised(sync.mkdirSync),
    mkdtemp: promised(sync.mkdtempSync),
    open: async (path: unknown, flags?: unknown, mode?: unknown) => new FileHandle(sync.openSync(path, flags, mode)),
    opendir: promised(sync.opendirSync),
    readFile: async (path: unknown, opts?: unknown) => sync.readFileSync(pathOrHandle(path), opts),
    readdir: promised(sync.readdirSync),
    readlink: promised(sync.readlinkSync),
    realpath: promised(sync.realpathSync),
    rename: promised(sync.renameSync),
    rm: promised(sync.rmSync),
    rmdir: promised(sync.rmdirSync),
    stat: promised(sync.statSync),
    statfs: promised(sync.statfsSync),
    symlink: promised(sync.symlinkSync),
    truncate: promised(sync.truncateSync),
    unlink: promised(sync.unlinkSync),
    utimes: promised(sync.utimesSync),
    writeFile: async (path: unknown, data: unknown, opts?: unknown) => sync.writeFileSync(pathOrHandle(path), await collect(data, opts), opts),
    watch: (): never => {
      throw notImplemented("promises.watch");
    },
    glob: (): never => {
      throw notImplemented("promises.glob");
    },
    constants,
  };
}
