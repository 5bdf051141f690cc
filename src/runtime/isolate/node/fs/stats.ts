/**
 * What stat and readdir report, as workerd reports it: every node readable (mode 0o444), writable
 * ones also 0o222; devices are character devices on `dev` 1, everything else on `dev` 0; inode,
 * owner, blocks are 0; timestamps are the Unix epoch except a modification time set by utimes.
 */
import { Buffer } from "node:buffer";
import { constants } from "./constants.js";
import { dirClosed } from "./errors.js";
import { isWritable, type Node } from "./tree.js";

const { S_IFMT, S_IFREG, S_IFDIR, S_IFCHR, S_IFBLK, S_IFIFO, S_IFLNK, S_IFSOCK } = constants;
const { UV_DIRENT_FILE, UV_DIRENT_DIR, UV_DIRENT_LINK, UV_DIRENT_CHAR } = constants;

type Num = number | bigint;

/** The is*() tests of Stats and Dirent, over the S_IF* type of the entry. */
abstract class TypeTests {
  protected abstract fileType(): number;
  isFile(): boolean {
    return this.fileType() === S_IFREG;
  }
  isDirectory(): boolean {
    return this.fileType() === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return this.fileType() === S_IFLNK;
  }
  isCharacterDevice(): boolean {
    return this.fileType() === S_IFCHR;
  }
  isBlockDevice(): boolean {
    return this.fileType() === S_IFBLK;
  }
  isFIFO(): boolean {
    return this.fileType() === S_IFIFO;
  }
  isSocket(): boolean {
    return this.fileType() === S_IFSOCK;
  }
}

/** `fs.Stats`, with Node's (deprecated) positional constructor; bigint stats use the same class. */
export class Stats extends TypeTests {
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;
  atimeNs?: bigint;
  mtimeNs?: bigint;
  ctimeNs?: bigint;
  birthtimeNs?: bigint;
  constructor(
    public dev: Num,
    public mode: Num,
    public nlink: Num,
    public uid: Num,
    public gid: Num,
    public rdev: Num,
    public blksize: Num,
    public ino: Num,
    public size: Num,
    public blocks: Num,
    public atimeMs: Num,
    public mtimeMs: Num,
    public ctimeMs: Num,
    public birthtimeMs: Num,
  ) {
    super();
    this.atime = new Date(Number(atimeMs));
    this.mtime = new Date(Number(mtimeMs));
    this.ctime = new Date(Number(ctimeMs));
    this.birthtime = new Date(Number(birthtimeMs));
  }
  protected fileType(): number {
    return Number(this.mode) & S_IFMT;
  }
}

function typeBits(node: Node): number {
  if (node.kind === "file") return S_IFREG;
  if (node.kind === "dir") return S_IFDIR;
  if (node.kind === "symlink") return S_IFLNK;
  return S_IFCHR;
}

export function statOf(node: Node, bigint: boolean): Stats {
  const mode = typeBits(node) | 0o444 | (isWritable(node) ? 0o222 : 0);
  const size = node.kind === "file" ? node.size : node.kind === "symlink" ? Buffer.byteLength(node.target) : 0;
  const dev = node.kind === "device" ? 1 : 0;
  const mtimeMs = node.kind === "device" ? 0 : node.mtimeMs;
  if (!bigint) return new Stats(dev, mode, 1, 0, 0, 0, 0, 0, size, 0, 0, mtimeMs, mtimeMs, 0);
  const ms = BigInt(Math.trunc(mtimeMs));
  const s = new Stats(BigInt(dev), BigInt(mode), 1n, 0n, 0n, 0n, 0n, 0n, BigInt(size), 0n, 0n, ms, ms, 0n);
  s.atimeNs = 0n;
  s.mtimeNs = BigInt(Math.round(mtimeMs * 1e6));
  s.ctimeNs = s.mtimeNs;
  s.birthtimeNs = 0n;
  return s;
}

const kType = Symbol("type");
/** UV_DIRENT_* (index) → S_IF* type. */
const DIRENT_TYPES = [0, S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK];

/** `fs.Dirent`: Node's constructor takes a `UV_DIRENT_*` type. */
export class Dirent extends TypeTests {
  readonly [kType]: number;
  constructor(
    public name: string | Buffer,
    type: number,
    public parentPath: string,
  ) {
    super();
    this[kType] = type;
  }
  /** Node 20's deprecated alias of `parentPath`. */
  get path(): string {
    return this.parentPath;
  }
  protected fileType(): number {
    return DIRENT_TYPES[this[kType]] ?? 0;
  }
}

export function direntType(node: Node): number {
  if (node.kind === "file") return UV_DIRENT_FILE;
  if (node.kind === "dir") return UV_DIRENT_DIR;
  if (node.kind === "symlink") return UV_DIRENT_LINK;
  return UV_DIRENT_CHAR;
}

type Callback<T> = (err: Error | null, value?: T) => void;

function settle<T>(work: () => T, cb: Callback<T> | undefined): Promise<T> | undefined {
  if (cb === undefined) {
    try {
      return Promise.resolve(work());
    } catch (err) {
      return Promise.reject(err);
    }
  }
  let value: T | undefined;
  let error: Error | null = null;
  try {
    value = work();
  } catch (err) {
    error = err as Error;
  }
  queueMicrotask(() => (error ? cb(error) : cb(null, value)));
  return undefined;
}

/** `fs.Dir` from opendir: the entries as they were when it was opened. */
export class Dir {
  readonly path: string;
  readonly #entries: Dirent[];
  #closed = false;
  constructor(path: string, entries: Dirent[]) {
    this.path = path;
    this.#entries = entries;
  }
  readSync(): Dirent | null {
    if (this.#closed) throw dirClosed();
    return this.#entries.shift() ?? null;
  }
  read(): Promise<Dirent | null>;
  read(cb: Callback<Dirent | null>): void;
  read(cb?: Callback<Dirent | null>): Promise<Dirent | null> | void {
    return settle(() => this.readSync(), cb);
  }
  closeSync(): void {
    if (this.#closed) throw dirClosed();
    this.#closed = true;
  }
  close(): Promise<void>;
  close(cb: Callback<void>): void;
  close(cb?: Callback<void>): Promise<void> | void {
    return settle(() => this.closeSync(), cb);
  }
  async *entries(): AsyncGenerator<Dirent> {
    try {
      for (let d = this.readSync(); d !== null; d = this.readSync()) yield d;
    } finally {
      if (!this.#closed) this.closeSync();
    }
  }
  [Symbol.asyncIterator](): AsyncGenerator<Dirent> {
    return this.entries();
  }
  [Symbol.dispose](): void {
    if (!this.#closed) this.closeSync();
  }
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#closed) this.closeSync();
  }
}
