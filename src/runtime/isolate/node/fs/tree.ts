/**
 * The file tree: nodes, the three mounts under `/`, path resolution, and the byte budget of a
 * request's temporary files.
 *
 * - `/bundle`: read-only, built on first use from the bundle's modules (a module named
 *   `lib/util.js` is `/bundle/lib/util.js`); file nodes share the bundle's bytes, never copied.
 * - `/dev`: the four character devices, read-only as a directory.
 * - `/tmp`: the root of the current `TmpStore`, looked up again on every resolution, so each
 *   request sees only its own files.
 * A node's `store` is the TmpStore it belongs to; a node without one is read-only.
 */
import { fsError } from "./errors.js";
import { checkLimits, resolveSegments, type ParsedPath } from "./paths.js";

export type DeviceName = "null" | "zero" | "full" | "random";

export interface FileNode {
  kind: "file";
  /** Capacity ≥ size; bytes past `size` are always zero. */
  data: Uint8Array;
  size: number;
  mtimeMs: number;
  store: TmpStore | undefined;
  /** Directory entries naming this file: its bytes leave the budget when the last one goes. */
  links: number;
}
export interface DirNode {
  kind: "dir";
  entries: Map<string, Node>;
  mtimeMs: number;
  store: TmpStore | undefined;
}
export interface LinkNode {
  kind: "symlink";
  target: string;
  mtimeMs: number;
  store: TmpStore | undefined;
}
export interface DeviceNode {
  kind: "device";
  device: DeviceName;
}
export type Node = FileNode | DirNode | LinkNode | DeviceNode;

/** Cloudflare's limit on one file (128 MB). */
export const MAX_FILE_BYTES = 128 * 1024 * 1024;
/** Default budget of a TmpStore's file contents: 128 MiB, the default memory limit of an isolate. */
export const DEFAULT_TMP_BYTES = 128 * 1024 * 1024;
const MAX_SYMLINK_HOPS = 40;

/**
 * One request's `/tmp`. Create one per request with `createTmpStore()` and drop it when the
 * request ends; nothing else holds on to it (open file descriptors keep only the files they opened).
 */
export class TmpStore {
  readonly root: DirNode;
  /** Bound on the total size of the files in this store, in bytes; writes past it fail with ENOSPC. */
  readonly maxBytes: number;
  #usedBytes = 0;

  constructor(maxBytes: number = DEFAULT_TMP_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
    this.maxBytes = maxBytes;
    this.root = newDir(this);
  }

  /** Bytes held by files that still have a name in this store. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Internal: account `delta` bytes, refusing growth past `maxBytes`. */
  charge(delta: number, syscall: string, path?: string): void {
    if (delta > 0 && this.#usedBytes + delta > this.maxBytes) {
      throw fsError("ENOSPC", syscall, path, undefined, `no space left on device (/tmp holds at most ${this.maxBytes} bytes)`);
    }
    this.#usedBytes += delta;
  }
}

export function newDir(store: TmpStore | undefined): DirNode {
  return { kind: "dir", entries: new Map(), mtimeMs: 0, store };
}
export function newFile(store: TmpStore | undefined, data: Uint8Array = new Uint8Array(0)): FileNode {
  return { kind: "file", data, size: data.byteLength, mtimeMs: 0, store, links: 1 };
}
export function newLink(store: TmpStore, target: string): LinkNode {
  return { kind: "symlink", target, mtimeMs: 0, store };
}

export function isWritable(node: Node): boolean {
  return node.kind === "device" || node.store !== undefined;
}

/** Resize a writable file, zero-filling growth; enforces the file size limit and the store budget. */
export function setFileSize(file: FileNode, size: number, syscall: string, path?: string): void {
  if (size > MAX_FILE_BYTES) throw fsError("EPERM", syscall, path, undefined, "file size limit exceeded (128 MB)");
  const delta = size - file.size;
  if (file.store && file.links > 0) file.store.charge(delta, syscall, path);
  if (size > file.data.length) {
    // Grow geometrically so that a stream of small appends stays linear.
    const grown = new Uint8Array(Math.max(size, Math.min(file.data.length * 2, MAX_FILE_BYTES)));
    grown.set(file.data.subarray(0, file.size));
    file.data = grown;
  } else if (size < file.size) {
    file.data.fill(0, size, file.size);
  }
  file.size = size;
}

/** utimes: a writable node keeps the modification time; read-only ones ignore it, as on workerd. */
export function setMtime(node: Node, ms: number): void {
  if (node.kind !== "device" && node.store) node.mtimeMs = ms;
}

/** A directory entry goes: a file's bytes leave its store's budget with its last name. */
export function dropEntry(node: Node): void {
  if (node.kind === "file") {
    if (node.links > 0 && --node.links === 0 && node.store) node.store.charge(-node.size, "unlink");
  } else if (node.kind === "dir") {
    for (const child of node.entries.values()) dropEntry(child);
  }
}

export interface Resolved {
  /** undefined: the last segment does not exist (its parent does). */
  node: Node | undefined;
  parent: DirNode;
  name: string;
  /** The path with every followed symbolic link replaced by its target. */
  segs: string[];
}

export class Tree {
  readonly root: DirNode = newDir(undefined);
  readonly #dev: DirNode = newDir(undefined);
  #bundle: DirNode | undefined;
  readonly #bundleFiles: () => Map<string, Uint8Array>;
  readonly #tmp: () => TmpStore;

  constructor(bundleFiles: () => Map<string, Uint8Array>, tmp: () => TmpStore) {
    this.#bundleFiles = bundleFiles;
    this.#tmp = tmp;
    for (const device of ["null", "zero", "full", "random"] as const) this.#dev.entries.set(device, { kind: "device", device });
  }

  lookup(dir: DirNode, name: string): Node | undefined {
    if (dir !== this.root) return dir.entries.get(name);
    if (name === "bundle") return this.#bundleDir();
    if (name === "tmp") return this.#tmp().root;
    if (name === "dev") return this.#dev;
    return undefined;
  }

  /** Entry names: the root in workerd's order, other directories sorted. */
  names(dir: DirNode): string[] {
    return dir === this.root ? ["bundle", "tmp", "dev"] : [...dir.entries.keys()].sort();
  }

  /**
   * Walk `path` from the root. Symbolic links are followed in the middle of the path always and
   * at its end when `follow` (or when the path ends with a slash). Throws ENOENT for a missing
   * directory on the way, ENOTDIR for a file used as one, ELOOP past 40 links.
   */
  resolve(path: ParsedPath, follow: boolean, syscall: string): Resolved {
    const followLast = follow || path.dirOnly;
    let segs = path.segs;
    let hops = 0;
    restart: for (;;) {
      let dir = this.root;
      for (let i = 0; i < segs.length; i++) {
        const name = segs[i]!;
        const last = i === segs.length - 1;
        const child = this.lookup(dir, name);
        if (child === undefined) {
          if (last) return { node: undefined, parent: dir, name, segs };
          throw fsError("ENOENT", syscall, path.text);
        }
        if (child.kind === "symlink" && (!last || followLast)) {
          if (++hops > MAX_SYMLINK_HOPS) throw fsError("ELOOP", syscall, path.text);
          segs = [...resolveSegments(child.target, segs.slice(0, i)), ...segs.slice(i + 1)];
          checkLimits(segs, syscall, path.text);
          continue restart;
        }
        if (last) {
          if (path.dirOnly && child.kind !== "dir") throw fsError("ENOTDIR", syscall, path.text);
          return { node: child, parent: dir, name, segs };
        }
        if (child.kind !== "dir") throw fsError("ENOTDIR", syscall, path.text);
        dir = child;
      }
      return { node: this.root, parent: this.root, name: "", segs };
    }
  }

  /** Like `resolve`, but the node must exist. */
  existing(path: ParsedPath, follow: boolean, syscall: string): Resolved & { node: Node } {
    const r = this.resolve(path, follow, syscall);
    if (r.node === undefined) throw fsError("ENOENT", syscall, path.text);
    return r as Resolved & { node: Node };
  }

  #bundleDir(): DirNode {
    if (this.#bundle) return this.#bundle;
    const root = newDir(undefined);
    for (const [name, bytes] of this.#bundleFiles()) {
      const segs = resolveSegments(name, []);
      const leaf = segs.pop();
      if (leaf === undefined) continue;
      let dir: DirNode | undefined = root;
      for (const seg of segs) {
        let next: Node | undefined = dir.entries.get(seg);
        if (next === undefined) dir.entries.set(seg, (next = newDir(undefined)));
        dir = next.kind === "dir" ? next : undefined;
        if (dir === undefined) break;
      }
      // Where one module's name is a directory of another's, the first one seen wins.
      if (dir !== undefined && !dir.entries.has(leaf)) dir.entries.set(leaf, newFile(undefined, bytes));
    }
    return (this.#bundle = root);
  }
}
