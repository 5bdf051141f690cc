/**
 * `fs.ReadStream` and `fs.WriteStream` over the virtual file system's descriptors, with Node's
 * options (flags, start/end, fd, autoClose, emitClose, highWaterMark, encoding, signal) and events
 * ('open', 'ready', 'close'). Each chunk is read or written synchronously, as all VFS work is.
 */
import { Buffer } from "node:buffer";
import { Readable, Writable } from "node:stream";
import { outOfRange } from "./errors.js";

/** The descriptor functions the streams use: the sync API. */
export interface StreamFs {
  openSync(path: unknown, flags?: unknown, mode?: unknown): number;
  readSync(fd: unknown, buffer: unknown, offset?: unknown, length?: unknown, position?: unknown): number;
  writeSync(fd: unknown, data: unknown, offset?: unknown, length?: unknown, position?: unknown): number;
  closeSync(fd: unknown): void;
}

/** A FileHandle passed as `fd`: the stream closes the handle, not the bare number. */
interface HandleLike {
  fd: number;
  close(): Promise<void>;
}

interface StreamOptions {
  flags?: string | number;
  encoding?: BufferEncoding;
  fd?: number | HandleLike | null;
  mode?: number;
  autoClose?: boolean;
  emitClose?: boolean;
  start?: number;
  end?: number;
  highWaterMark?: number;
  signal?: AbortSignal;
}

const DEFAULT_READ_CHUNK = 64 * 1024;

function streamOptions(value: unknown): StreamOptions {
  if (typeof value === "string") return { encoding: value as BufferEncoding };
  return (value ?? {}) as StreamOptions;
}

/** Shared by both streams: open in _construct unless given a descriptor, close on destroy. */
function descriptorOf(o: StreamOptions): { fd: number | null; handle: HandleLike | undefined } {
  if (o.fd !== null && typeof o.fd === "object") return { fd: o.fd.fd, handle: o.fd };
  return { fd: o.fd ?? null, handle: undefined };
}

export function streamClasses(fs: StreamFs) {
  function openFor(stream: ReadStream | WriteStream, cb: (err?: Error | null) => void): void {
    if (stream.fd !== null) return cb();
    try {
      stream.fd = fs.openSync(stream.path, stream.flags, stream.mode);
    } catch (err) {
      return cb(err as Error);
    }
    cb();
    stream.emit("open", stream.fd);
    stream.emit("ready");
  }

  function closeFor(stream: ReadStream | WriteStream, handle: HandleLike | undefined, err: Error | null, cb: (err: Error | null) => void): void {
    if (stream.fd === null || !stream.autoClose) return cb(err);
    const fd = stream.fd;
    stream.fd = null;
    if (handle) {
      handle.close().then(() => cb(err), (closeErr: Error) => cb(err ?? closeErr));
      return;
    }
    try {
      fs.closeSync(fd);
    } catch (closeErr) {
      err ??= closeErr as Error;
    }
    cb(err);
  }

  class ReadStream extends Readable {
    bytesRead = 0;
    path: unknown;
    fd: number | null;
    flags: string | number;
    mode: number;
    start: number | undefined;
    end: number;
    pos: number | undefined;
    autoClose: boolean;
    readonly #handle: HandleLike | undefined;

    constructor(path: unknown, opts?: unknown) {
      const o = streamOptions(opts);
      super({ highWaterMark: o.highWaterMark ?? DEFAULT_READ_CHUNK, encoding: o.encoding, emitClose: o.emitClose ?? true, autoDestroy: o.autoClose ?? true, signal: o.signal });
      ({ fd: this.fd, handle: this.#handle } = descriptorOf(o));
      this.path = path;
      this.flags = o.flags ?? "r";
      this.mode = o.mode ?? 0o666;
      this.start = o.start;
      this.end = o.end ?? Infinity;
      this.autoClose = o.autoClose ?? true;
      if (this.start !== undefined && this.start > this.end) throw outOfRange("start", `<= "end" (here: ${this.end})`, this.start);
      this.pos = this.start;
    }

    get pending(): boolean {
      return this.fd === null;
    }

    override _construct(cb: (err?: Error | null) => void): void {
      openFor(this, cb);
    }

    override _read(n: number): void {
      const left = this.end - (this.pos ?? this.bytesRead) + 1;
      const want = Math.min(n, left);
      if (want <= 0) {
        this.push(null);
        return;
      }
      const chunk = Buffer.alloc(want);
      let got: number;
      try {
        got = fs.readSync(this.fd, chunk, 0, want, this.pos ?? null);
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      if (got === 0) {
        this.push(null);
        return;
      }
      if (this.pos !== undefined) this.pos += got;
      this.bytesRead += got;
      this.push(got === want ? chunk : chunk.subarray(0, got));
    }

    override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
      closeFor(this, this.#handle, err, cb);
    }

    close(cb?: (err?: Error | null) => void): void {
      if (cb) this.once("close", () => cb());
      this.destroy();
    }
  }

  class WriteStream extends Writable {
    bytesWritten = 0;
    path: unknown;
    fd: number | null;
    flags: string | number;
    mode: number;
    start: number | undefined;
    pos: number | undefined;
    autoClose: boolean;
    readonly #handle: HandleLike | undefined;

    constructor(path: unknown, opts?: unknown) {
      const o = streamOptions(opts);
      super({ highWaterMark: o.highWaterMark, defaultEncoding: o.encoding ?? "utf8", decodeStrings: true, emitClose: o.emitClose ?? true, autoDestroy: o.autoClose ?? true, signal: o.signal });
      ({ fd: this.fd, handle: this.#handle } = descriptorOf(o));
      this.path = path;
      this.flags = o.flags ?? "w";
      this.mode = o.mode ?? 0o666;
      this.start = o.start;
      this.pos = o.start;
      this.autoClose = o.autoClose ?? true;
    }

    get pending(): boolean {
      return this.fd === null;
    }

    override _construct(cb: (err?: Error | null) => void): void {
      openFor(this, cb);
    }

    override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
      try {
        const n = fs.writeSync(this.fd, chunk, 0, chunk.length, this.pos ?? null);
        if (this.pos !== undefined) this.pos += n;
        this.bytesWritten += n;
      } catch (err) {
        return cb(err as Error);
      }
      cb();
    }

    override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
      closeFor(this, this.#handle, err, cb);
    }

    /** Ends the stream; `cb` runs once it has closed. */
    close(cb?: (err?: Error | null) => void): void {
      if (cb) {
        if (this.closed) {
          queueMicrotask(() => cb());
        } else {
          this.once("close", () => cb());
        }
      }
      if (!this.autoClose) this.once("finish", () => this.destroy());
      this.end();
    }

    destroySoon(): void {
      this.end();
    }
  }

  return { ReadStream, WriteStream };
}
