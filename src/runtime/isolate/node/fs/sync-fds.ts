/**
 * The synchronous fs functions around file descriptors, and the whole-file ones built on them
 * (readFile, writeFile, appendFile).
 */
import type { Buffer } from "node:buffer";
import {
  boolOption,
  dataBytes,
  decoded,
  encodingOf,
  fdArg,
  flagsArg,
  idArg,
  integerArg,
  isView,
  modeArg,
  options,
  positionArg,
  timeArg,
  viewBytes,
} from "./args.js";
import { invalidArgType, outOfRange } from "./errors.js";
import { openNode, readAt, readRest, truncateOpen, writeAt, type Core, type OpenFile } from "./fds.js";
import { parsePath } from "./paths.js";
import { statOf, type Stats } from "./stats.js";
import { setMtime } from "./tree.js";

function bufferArg(buffer: unknown): Uint8Array {
  if (!isView(buffer)) throw invalidArgType("buffer", "an instance of Buffer, TypedArray, or DataView", buffer);
  return viewBytes(buffer);
}

/** `buffer[offset, offset + length)` after Node's checks. */
function window(bytes: Uint8Array, offset: unknown, length: unknown): Uint8Array {
  const start = integerArg(offset, "offset", 0);
  if (start > bytes.length) throw outOfRange("offset", `<= ${bytes.length}`, start);
  const len = integerArg(length, "length", bytes.length - start);
  if (len > bytes.length - start) throw outOfRange("length", `<= ${bytes.length - start}`, len);
  return bytes.subarray(start, start + len);
}

function buffersArg(buffers: unknown): Uint8Array[] {
  if (!Array.isArray(buffers) || !buffers.every(isView)) throw invalidArgType("buffers", "an instance of ArrayBufferView[]", buffers);
  return buffers.map(viewBytes);
}

interface ReadWriteArgs {
  bytes: Uint8Array;
  position: number | null;
}

/** read/readSync's arguments: (buffer, offset, length, position) or (buffer, { offset, length, position }). */
export function readArgs(buffer: unknown, offsetOrOptions?: unknown, length?: unknown, position?: unknown): ReadWriteArgs {
  const bytes = bufferArg(buffer);
  if (offsetOrOptions !== null && typeof offsetOrOptions === "object") {
    const o = offsetOrOptions as Record<string, unknown>;
    return { bytes: window(bytes, o.offset, o.length), position: positionArg(o.position) };
  }
  return { bytes: window(bytes, offsetOrOptions, length), position: positionArg(position) };
}

/** write/writeSync's arguments: (buffer, offset?, length?, position?), (buffer, options) or (string, position?, encoding?). */
export function writeArgs(data: unknown, offsetOrOptions?: unknown, length?: unknown, position?: unknown): ReadWriteArgs {
  if (typeof data === "string") {
    const encoding = typeof length === "string" ? encodingOf({ encoding: length }, "utf8") : "utf8";
    return { bytes: dataBytes(data, encoding, "buffer"), position: positionArg(offsetOrOptions) };
  }
  return readArgs(data, offsetOrOptions, length, position);
}

export function fdOps(core: Core) {
  const { tree, fds } = core;
  const open = (fd: unknown, syscall: string): OpenFile => fds.get(fdArg(fd), syscall);

  function readvSync(fd: unknown, buffers: unknown, position?: unknown): number {
    const file = open(fd, "read");
    const views = buffersArg(buffers);
    const at = positionArg(position);
    let total = 0;
    for (const view of views) {
      const n = readAt(file, view, at === null ? null : at + total);
      total += n;
      if (n < view.length) break;
    }
    return total;
  }

  function writevSync(fd: unknown, buffers: unknown, position?: unknown): number {
    const file = open(fd, "write");
    const views = buffersArg(buffers);
    const at = positionArg(position);
    let total = 0;
    for (const view of views) total += writeAt(file, view, at === null ? null : at + total);
    return total;
  }

  /** writeFile and appendFile: to a path (opened with `flag`) or to a descriptor at its offset. */
  function writeWhole(pathOrFd: unknown, data: unknown, opts: unknown, flag: string): void {
    const o = options(opts);
    modeArg(o.mode);
    const bytes = dataBytes(data, encodingOf(o, "utf8"));
    const file = typeof pathOrFd === "number" ? open(pathOrFd, "write") : openNode(tree, parsePath(pathOrFd, "open"), flagsArg(o.flag, flag));
    writeAt(file, bytes, null);
  }

  return {
    openSync(path: unknown, flags?: unknown, mode?: unknown): number {
      const p = parsePath(path, "open");
      const f = flagsArg(flags, "r");
      modeArg(mode);
      return fds.add(openNode(tree, p, f), "open");
    },

    closeSync(fd: unknown): void {
      fds.close(fdArg(fd));
    },

    readSync(fd: unknown, buffer: unknown, offsetOrOptions?: unknown, length?: unknown, position?: unknown): number {
      const file = open(fd, "read");
      const args = readArgs(buffer, offsetOrOptions, length, position);
      return args.bytes.length === 0 ? 0 : readAt(file, args.bytes, args.position);
    },

    writeSync(fd: unknown, data: unknown, offsetOrOptions?: unknown, length?: unknown, position?: unknown): number {
      const file = open(fd, "write");
      const args = writeArgs(data, offsetOrOptions, length, position);
      return writeAt(file, args.bytes, args.position);
    },

    readvSync,
    writevSync,

    fstatSync(fd: unknown, opts?: unknown): Stats {
      const bigint = boolOption(options(opts), "bigint");
      return statOf(open(fd, "fstat").node, bigint);
    },

    ftruncateSync(fd: unknown, len?: unknown): void {
      const length = Math.max(0, typeof len === "number" ? len : integerArg(len, "len", 0));
      truncateOpen(open(fd, "ftruncate"), length);
    },

    /** Nothing to flush: the descriptor is only checked. */
    fsyncSync(fd: unknown): void {
      open(fd, "fsync");
    },
    fdatasyncSync(fd: unknown): void {
      open(fd, "fdatasync");
    },
    fchmodSync(fd: unknown, mode: unknown): void {
      modeArg(mode);
      open(fd, "fchmod");
    },
    fchownSync(fd: unknown, uid: unknown, gid: unknown): void {
      idArg(uid, "uid");
      idArg(gid, "gid");
      open(fd, "fchown");
    },
    futimesSync(fd: unknown, atime: unknown, mtime: unknown): void {
      timeArg(atime, "atime");
      setMtime(open(fd, "futime").node, timeArg(mtime, "mtime"));
    },

    readFileSync(pathOrFd: unknown, opts?: unknown): string | Buffer {
      const o = options(opts);
      const encoding = encodingOf(o, null);
      const file = typeof pathOrFd === "number" ? open(pathOrFd, "read") : openNode(tree, parsePath(pathOrFd, "open"), flagsArg(o.flag, "r"));
      return decoded(readRest(file), encoding);
    },

    writeFileSync(pathOrFd: unknown, data: unknown, opts?: unknown): void {
      writeWhole(pathOrFd, data, opts, "w");
    },

    appendFileSync(pathOrFd: unknown, data: unknown, opts?: unknown): void {
      writeWhole(pathOrFd, data, opts, "a");
    },
  };
}
