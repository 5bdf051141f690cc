/**
 * File descriptors and the byte-level work behind them: open(2) flags, reads and writes of files
 * and devices, truncation. Descriptors belong to the isolate (as on workerd), not to a request; a
 * descriptor keeps the node it opened, so one opened in a request's /tmp still reads that file
 * after the request has gone, and nothing else does.
 *
 * Devices, as workerd implements them: /dev/null reads nothing and swallows writes; /dev/zero reads
 * zeros and swallows writes; /dev/full reads zeros and refuses writes; /dev/random reads random
 * bytes and refuses writes. Refusals are EPERM, as are writes to anything read-only.
 */
import { constants } from "./constants.js";
import { fsError } from "./errors.js";
import type { ParsedPath } from "./paths.js";
import { isWritable, newFile, setFileSize, type DeviceNode, type DirNode, type FileNode, type Tree } from "./tree.js";

const { O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW } = constants;
const O_ACCMODE = 3;

/** Open descriptors at once per isolate; past it, open fails with EMFILE. */
export const MAX_OPEN_FILES = 1024;
/** The first descriptor handed out; 0-2 stay free as stdio's numbers. */
const FIRST_FD = 3;
/** crypto.getRandomValues fills at most this many bytes a call. */
const RANDOM_CHUNK = 65536;

export interface OpenFile {
  node: FileNode | DirNode | DeviceNode;
  readable: boolean;
  writable: boolean;
  append: boolean;
  /** The offset of the next read or write without an explicit position. */
  position: number;
  path: string;
}

export class Fds {
  readonly #open = new Map<number, OpenFile>();
  // Numbers are not reused, so a stale descriptor fails with EBADF instead of reaching another file.
  #next = FIRST_FD;

  add(file: OpenFile, syscall: string): number {
    if (this.#open.size >= MAX_OPEN_FILES) throw fsError("EMFILE", syscall, file.path);
    const fd = this.#next++;
    this.#open.set(fd, file);
    return fd;
  }

  get(fd: number, syscall: string): OpenFile {
    const file = this.#open.get(fd);
    if (file === undefined) throw fsError("EBADF", syscall);
    return file;
  }

  close(fd: number): void {
    if (!this.#open.delete(fd)) throw fsError("EBADF", "close");
  }
}

/** open(2) on the tree: creates, truncates and checks access as `flags` say. */
export function openNode(tree: Tree, path: ParsedPath, flags: number): OpenFile {
  const acc = flags & O_ACCMODE;
  const writable = acc === O_WRONLY || acc === O_RDWR;
  const r = tree.resolve(path, (flags & O_NOFOLLOW) === 0, "open");
  let node = r.node;
  if (node === undefined) {
    if ((flags & O_CREAT) === 0) throw fsError("ENOENT", "open", path.text);
    if (path.dirOnly) throw fsError("EISDIR", "open", path.text);
    if (!r.parent.store) throw fsError("EPERM", "open", path.text);
    node = newFile(r.parent.store);
    r.parent.entries.set(r.name, node);
  } else {
    if ((flags & O_CREAT) !== 0 && (flags & O_EXCL) !== 0) throw fsError("EEXIST", "open", path.text);
    if (node.kind === "symlink") throw fsError("ELOOP", "open", path.text);
    if ((flags & O_DIRECTORY) !== 0 && node.kind !== "dir") throw fsError("ENOTDIR", "open", path.text);
    if (node.kind === "dir" && writable) throw fsError("EISDIR", "open", path.text);
    if (writable && !isWritable(node)) throw fsError("EPERM", "open", path.text);
    if (node.kind === "file" && writable && (flags & O_TRUNC) !== 0) setFileSize(node, 0, "open", path.text);
  }
  return { node, readable: acc !== O_WRONLY, writable, append: (flags & O_APPEND) !== 0, position: 0, path: path.text };
}

function readDevice(device: DeviceNode["device"], target: Uint8Array): number {
  if (device === "null") return 0;
  if (device === "random") {
    for (let at = 0; at < target.length; at += RANDOM_CHUNK) {
      globalThis.crypto.getRandomValues(target.subarray(at, at + RANDOM_CHUNK));
    }
  } else {
    target.fill(0);
  }
  return target.length;
}

/** Read into `target` at `position`, or at the descriptor's offset (advancing it) when null. */
export function readAt(file: OpenFile, target: Uint8Array, position: number | null, syscall = "read"): number {
  if (!file.readable) throw fsError("EBADF", syscall);
  const node = file.node;
  if (node.kind === "dir") throw fsError("EISDIR", syscall);
  let n: number;
  if (node.kind === "device") {
    n = readDevice(node.device, target);
  } else {
    const at = position ?? file.position;
    n = Math.max(0, Math.min(target.length, node.size - at));
    if (n > 0) target.set(node.data.subarray(at, at + n));
  }
  if (position === null) file.position += n;
  return n;
}

/** Write `source` at `position`, or at the descriptor's offset (advancing it) when null; appends in append mode. */
export function writeAt(file: OpenFile, source: Uint8Array, position: number | null, syscall = "write"): number {
  if (!file.writable) throw fsError("EBADF", syscall);
  const node = file.node;
  if (node.kind === "dir") throw fsError("EISDIR", syscall);
  if (node.kind === "device") {
    if (node.device === "full" || node.device === "random") throw fsError("EPERM", syscall, file.path);
    return source.length;
  }
  if (!node.store) throw fsError("EPERM", syscall, file.path);
  const at = file.append ? node.size : (position ?? file.position);
  const end = at + source.length;
  if (end > node.size) setFileSize(node, end, syscall, file.path);
  node.data.set(source, at);
  if (position === null || file.append) file.position = end;
  return source.length;
}

export function truncateOpen(file: OpenFile, length: number, syscall = "ftruncate"): void {
  const node = file.node;
  if (node.kind === "dir") throw fsError("EISDIR", syscall, file.path);
  if (!file.writable) throw fsError("EINVAL", syscall, file.path);
  if (node.kind === "device") {
    if (node.device === "full" || node.device === "random") throw fsError("EPERM", syscall, file.path);
    return;
  }
  if (!node.store) throw fsError("EPERM", syscall, file.path);
  setFileSize(node, length, syscall, file.path);
}

/** Everything from the descriptor's offset to the end, advancing it; devices read as empty. */
export function readRest(file: OpenFile, syscall = "read"): Uint8Array {
  if (!file.readable) throw fsError("EBADF", syscall);
  const node = file.node;
  if (node.kind === "dir") throw fsError("EISDIR", syscall, file.path);
  // A device has no end: /dev/zero would fill memory. Like workerd, whole-file reads of a
  // device see its size, 0.
  if (node.kind === "device") return new Uint8Array(0);
  const bytes = node.data.slice(Math.min(file.position, node.size), node.size);
  file.position = Math.max(file.position, node.size);
  return bytes;
}

/** What the fs functions share: one tree and one descriptor table per isolate. */
export interface Core {
  tree: Tree;
  fds: Fds;
}
