/**
 * The synchronous fs functions that take paths: stat, readdir, mkdir, rm, rename, links, copies.
 * Signatures and errors are Node's; "read-only" (anything outside /tmp but the devices) is EPERM,
 * as on Cloudflare. The callback and promise forms wrap these.
 */
import { boolOption, encodingOf, idArg, integerArg, modeArg, named, options, timeArg, type Encoding } from "./args.js";
import { constants } from "./constants.js";
import { fsError, invalidArgType, outOfRange, rmIsDirError, type ErrnoCode, type FsError } from "./errors.js";
import { openNode, writeAt, truncateOpen, type Core } from "./fds.js";
import { joinPath, parsePath, pathToString, type ParsedPath } from "./paths.js";
import { Dir, Dirent, direntType, statOf, type Stats } from "./stats.js";
import { dropEntry, isWritable, newDir, newLink, setMtime, type DirNode, type Node, type Resolved } from "./tree.js";

const { F_OK, X_OK, W_OK, R_OK, COPYFILE_EXCL, O_RDWR, O_WRONLY, O_CREAT, O_TRUNC, O_EXCL } = constants;
const TEMP_SUFFIX_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** Run `work`; an fs error from it is reported as `syscall` on both paths (Node's "'a' -> 'b'"). */
function twoPaths<T>(syscall: string, from: ParsedPath, to: ParsedPath, work: () => T): T {
  try {
    return work();
  } catch (err) {
    const e = err as FsError;
    if (typeof e.errno !== "number" || e.errno >= 0) throw err;
    // Keep the description ("no space left on device (/tmp holds at most …)") of the inner error.
    const description = e.message.slice(e.code.length + 2, e.message.indexOf(`, ${e.syscall}`));
    throw fsError(e.code as ErrnoCode, syscall, from.text, to.text, description);
  }
}

function isInside(outer: readonly string[], inner: readonly string[]): boolean {
  return outer.length <= inner.length && outer.every((s, i) => inner[i] === s);
}

function childPath(parent: string, name: string): string {
  return parent.endsWith("/") ? parent + name : `${parent}/${name}`;
}

export function pathOps(core: Core) {
  const { tree } = core;

  function remove(r: Resolved & { node: Node }, syscall: string, text: string): void {
    if (!r.parent.store) throw fsError("EPERM", syscall, text);
    r.parent.entries.delete(r.name);
    dropEntry(r.node);
  }

  function dirOf(path: unknown, syscall: string): { p: ParsedPath; dir: DirNode } {
    const p = parsePath(path, syscall);
    const { node } = tree.existing(p, true, syscall);
    if (node.kind !== "dir") throw fsError("ENOTDIR", syscall, p.text);
    return { p, dir: node };
  }

  function listDirents(dir: DirNode, parentPath: string, recursive: boolean, encoding: Encoding | null, out: Dirent[]): Dirent[] {
    for (const name of tree.names(dir)) {
      const child = tree.lookup(dir, name)!;
      out.push(new Dirent(named(name, encoding), direntType(child), parentPath));
      if (recursive && child.kind === "dir") listDirents(child, childPath(parentPath, name), true, encoding, out);
    }
    return out;
  }

  function listNames(dir: DirNode, prefix: string, recursive: boolean, out: string[]): string[] {
    for (const name of tree.names(dir)) {
      out.push(prefix + name);
      if (!recursive) continue;
      // Looked up only when recursing: listing / must not build /bundle.
      const child = tree.lookup(dir, name)!;
      if (child.kind === "dir") listNames(child, `${prefix}${name}/`, true, out);
    }
    return out;
  }

  function stat(syscall: "stat" | "lstat", path: unknown, opts: unknown): Stats | undefined {
    const o = options(opts);
    const bigint = boolOption(o, "bigint");
    const throwIfNoEntry = boolOption(o, "throwIfNoEntry", true);
    const p = parsePath(path, syscall);
    try {
      return statOf(tree.existing(p, syscall === "stat", syscall).node, bigint);
    } catch (err) {
      if (!throwIfNoEntry && ((err as FsError).code === "ENOENT" || (err as FsError).code === "ENOTDIR")) return undefined;
      throw err;
    }
  }

  function mkdirSync(path: unknown, opts?: unknown): string | undefined {
    const o = typeof opts === "number" || typeof opts === "string" ? { mode: opts } : options(opts);
    modeArg(o.mode);
    const recursive = boolOption(o, "recursive");
    const p = parsePath(path, "mkdir");
    if (!recursive) {
      const r = tree.resolve(p, false, "mkdir");
      if (r.node) throw fsError("EEXIST", "mkdir", p.text);
      if (!r.parent.store) throw fsError("EPERM", "mkdir", p.text);
      r.parent.entries.set(r.name, newDir(r.parent.store));
      return undefined;
    }
    let first: string | undefined;
    for (let i = 1; i <= p.segs.length; i++) {
      const r = tree.resolve({ segs: p.segs.slice(0, i), text: p.text, dirOnly: false }, true, "mkdir");
      if (r.node) {
        if (r.node.kind !== "dir") throw fsError(i === p.segs.length ? "EEXIST" : "ENOTDIR", "mkdir", p.text);
        continue;
      }
      if (!r.parent.store) throw fsError("EPERM", "mkdir", p.text);
      r.parent.entries.set(r.name, newDir(r.parent.store));
      first ??= joinPath(p.segs.slice(0, i));
    }
    return first;
  }

  function copyFileSync(src: unknown, dest: unknown, mode?: unknown): void {
    const flags = integerArg(mode, "mode", 0);
    if (flags > 7) throw outOfRange("mode", ">= 0 && <= 7", flags);
    const from = parsePath(src, "copyfile", "src");
    const to = parsePath(dest, "copyfile", "dest");
    twoPaths("copyfile", from, to, () => {
      const s = tree.existing(from, true, "copyfile").node;
      if (s.kind === "dir") throw fsError("EISDIR", "copyfile");
      const d = tree.resolve(to, true, "copyfile").node;
      if (d === s) return;
      if (d?.kind === "dir") throw fsError("EISDIR", "copyfile");
      const out = openNode(tree, to, O_WRONLY | O_CREAT | O_TRUNC | ((flags & COPYFILE_EXCL) !== 0 ? O_EXCL : 0));
      writeAt(out, s.kind === "file" ? s.data.subarray(0, s.size) : new Uint8Array(0), 0);
    });
  }

  function rmSync(path: unknown, opts?: unknown): void {
    const o = options(opts);
    const force = boolOption(o, "force");
    const recursive = boolOption(o, "recursive");
    integerArg(o.maxRetries, "options.maxRetries", 0);
    integerArg(o.retryDelay, "options.retryDelay", 0);
    const p = parsePath(path, "rm");
    let r: Resolved;
    try {
      r = tree.resolve(p, false, "rm");
    } catch (err) {
      if (force && (err as FsError).code === "ENOENT") return;
      throw err;
    }
    if (r.node === undefined) {
      if (force) return;
      throw fsError("ENOENT", "rm", p.text);
    }
    if (r.node.kind === "dir" && !recursive) throw rmIsDirError(p.text);
    remove(r as Resolved & { node: Node }, "rm", p.text);
  }

  function cpSync(src: unknown, dest: unknown, opts?: unknown): void {
    const o = options(opts);
    const recursive = boolOption(o, "recursive");
    const force = boolOption(o, "force", true);
    const errorOnExist = boolOption(o, "errorOnExist");
    const dereference = boolOption(o, "dereference");
    const filter = o.filter;
    if (filter !== undefined && typeof filter !== "function") throw invalidArgType("options.filter", "of type function", filter);
    const copy = (fromText: string, toText: string): void => {
      if (filter) {
        const keep: unknown = filter(fromText, toText);
        if (keep instanceof Promise) throw new TypeError("fs.cp filters must return a boolean here: all fs work is synchronous");
        if (!keep) return;
      }
      const from = parsePath(fromText, "cp");
      const to = parsePath(toText, "cp");
      const s = tree.existing(from, dereference, "cp");
      const d = tree.resolve(to, false, "cp");
      if (s.node.kind === "dir") {
        if (!recursive) throw Object.assign(rmIsDirError(from.text), { message: `Recursive option is required to copy a directory: cp returned EISDIR (is a directory) ${from.text}` });
        if (isInside(s.segs, d.segs)) throw fsError("EINVAL", "cp", from.text, to.text, "cannot copy a directory into itself");
        if (d.node === undefined) mkdirSync(toText);
        else if (d.node.kind !== "dir") throw fsError("ENOTDIR", "cp", to.text);
        for (const name of tree.names(s.node)) copy(childPath(fromText, name), childPath(toText, name));
        return;
      }
      if (d.node !== undefined) {
        if (!force) {
          if (errorOnExist) throw fsError("EEXIST", "cp", to.text);
          return;
        }
        if (d.node.kind === "dir") throw fsError("EISDIR", "cp", to.text);
        remove(d as Resolved & { node: Node }, "cp", to.text);
      }
      if (s.node.kind === "symlink") symlinkSync(s.node.target, toText);
      else copyFileSync(fromText, toText);
    };
    copy(pathToString(src, "src"), pathToString(dest, "dest"));
  }

  function symlinkSync(target: unknown, path: unknown, _type?: unknown): void {
    const targetText = pathToString(target, "target");
    const p = parsePath(path, "symlink");
    const r = tree.resolve(p, false, "symlink");
    if (r.node) throw fsError("EEXIST", "symlink", targetText, p.text);
    if (!r.parent.store) throw fsError("EPERM", "symlink", targetText, p.text);
    r.parent.entries.set(r.name, newLink(r.parent.store, targetText));
  }

  return {
    statSync: (path: unknown, opts?: unknown) => stat("stat", path, opts),
    lstatSync: (path: unknown, opts?: unknown) => stat("lstat", path, opts),

    accessSync(path: unknown, mode?: unknown): void {
      const m = integerArg(mode, "mode", F_OK);
      if (m > (R_OK | W_OK | X_OK)) throw outOfRange("mode", ">= 0 && <= 7", m);
      const p = parsePath(path, "access");
      const { node } = tree.existing(p, true, "access");
      if ((m & W_OK) !== 0 && !isWritable(node)) throw fsError("EPERM", "access", p.text);
    },

    existsSync(path: unknown): boolean {
      try {
        tree.existing(parsePath(path, "access"), true, "access");
        return true;
      } catch {
        return false;
      }
    },

    readdirSync(path: unknown, opts?: unknown): (string | Buffer | Dirent)[] {
      const o = options(opts);
      const encoding = encodingOf(o, "utf8");
      const recursive = boolOption(o, "recursive");
      const { p, dir } = dirOf(path, "scandir");
      if (boolOption(o, "withFileTypes")) return listDirents(dir, p.text, recursive, encoding, []);
      return listNames(dir, "", recursive, []).map((name) => named(name, encoding));
    },

    opendirSync(path: unknown, opts?: unknown): Dir {
      const o = options(opts);
      integerArg(o.bufferSize, "options.bufferSize", 32);
      const { p, dir } = dirOf(path, "opendir");
      return new Dir(p.text, listDirents(dir, p.text, boolOption(o, "recursive"), encodingOf(o, "utf8"), []));
    },

    mkdirSync,

    mkdtempSync(prefix: unknown, opts?: unknown): string | Buffer {
      const encoding = encodingOf(options(opts), "utf8");
      const base = pathToString(prefix, "prefix");
      const random = new Uint8Array(6);
      for (;;) {
        globalThis.crypto.getRandomValues(random);
        const path = base + Array.from(random, (b) => TEMP_SUFFIX_CHARS[b % TEMP_SUFFIX_CHARS.length]).join("");
        try {
          mkdirSync(path);
          return named(path, encoding);
        } catch (err) {
          if ((err as FsError).code !== "EEXIST") throw err;
        }
      }
    },

    rmSync,

    rmdirSync(path: unknown, opts?: unknown): void {
      const recursive = boolOption(options(opts), "recursive");
      const p = parsePath(path, "rmdir");
      const r = tree.existing(p, false, "rmdir");
      if (r.node.kind !== "dir") throw fsError("ENOTDIR", "rmdir", p.text);
      if (!r.parent.store) throw fsError("EPERM", "rmdir", p.text);
      if (!recursive && tree.names(r.node).length > 0) throw fsError("ENOTEMPTY", "rmdir", p.text);
      remove(r, "rmdir", p.text);
    },

    unlinkSync(path: unknown): void {
      const p = parsePath(path, "unlink");
      const r = tree.existing(p, false, "unlink");
      if (r.node.kind === "dir") throw fsError("EISDIR", "unlink", p.text);
      remove(r, "unlink", p.text);
    },

    renameSync(oldPath: unknown, newPath: unknown): void {
      const from = parsePath(oldPath, "rename", "oldPath");
      const to = parsePath(newPath, "rename", "newPath");
      twoPaths("rename", from, to, () => {
        const s = tree.existing(from, false, "rename");
        const d = tree.resolve(to, false, "rename");
        if (!s.parent.store || !d.parent.store) throw fsError("EPERM", "rename");
        if (s.parent.store !== d.parent.store) throw fsError("EXDEV", "rename");
        if (d.node === s.node) return;
        if (s.node.kind === "dir") {
          if (d.node && d.node.kind !== "dir") throw fsError("ENOTDIR", "rename");
          if (d.node?.kind === "dir" && d.node.entries.size > 0) throw fsError("ENOTEMPTY", "rename");
          if (isInside(s.segs, d.segs)) throw fsError("EINVAL", "rename");
        } else if (d.node?.kind === "dir") {
          throw fsError("EISDIR", "rename");
        }
        if (d.node) remove(d as Resolved & { node: Node }, "rename", to.text);
        s.parent.entries.delete(s.name);
        d.parent.entries.set(d.name, s.node);
      });
    },

    copyFileSync,
    cpSync,
    symlinkSync,

    readlinkSync(path: unknown, opts?: unknown): string | Buffer {
      const encoding = encodingOf(options(opts), "utf8");
      const p = parsePath(path, "readlink");
      const { node } = tree.existing(p, false, "readlink");
      if (node.kind !== "symlink") throw fsError("EINVAL", "readlink", p.text);
      return named(node.target, encoding);
    },

    realpathSync(path: unknown, opts?: unknown): string | Buffer {
      const encoding = encodingOf(options(opts), "utf8");
      const p = parsePath(path, "realpath");
      return named(joinPath(tree.existing(p, true, "realpath").segs), encoding);
    },

    linkSync(existingPath: unknown, newPath: unknown): void {
      const from = parsePath(existingPath, "link", "existingPath");
      const to = parsePath(newPath, "link", "newPath");
      twoPaths("link", from, to, () => {
        const s = tree.existing(from, false, "link").node;
        if (s.kind === "dir") throw fsError("EPERM", "link");
        const d = tree.resolve(to, false, "link");
        if (d.node) throw fsError("EEXIST", "link");
        if (!d.parent.store) throw fsError("EPERM", "link");
        if (s.kind === "file" && s.store) s.links++;
        d.parent.entries.set(d.name, s);
      });
    },

    truncateSync(path: unknown, len?: unknown): void {
      const length = Math.max(0, typeof len === "number" ? len : integerArg(len, "len", 0));
      truncateOpen(openNode(tree, parsePath(path, "open"), O_RDWR), length);
    },

    chmodSync(path: unknown, mode: unknown): void {
      modeArg(mode);
      tree.existing(parsePath(path, "chmod"), true, "chmod");
    },
    lchmodSync(path: unknown, mode: unknown): void {
      modeArg(mode);
      tree.existing(parsePath(path, "lchmod"), false, "lchmod");
    },
    chownSync(path: unknown, uid: unknown, gid: unknown): void {
      idArg(uid, "uid");
      idArg(gid, "gid");
      tree.existing(parsePath(path, "chown"), true, "chown");
    },
    lchownSync(path: unknown, uid: unknown, gid: unknown): void {
      idArg(uid, "uid");
      idArg(gid, "gid");
      tree.existing(parsePath(path, "lchown"), false, "lchown");
    },

    utimesSync(path: unknown, atime: unknown, mtime: unknown): void {
      timeArg(atime, "atime");
      const ms = timeArg(mtime, "mtime");
      setMtime(tree.existing(parsePath(path, "utime"), true, "utime").node, ms);
    },
    lutimesSync(path: unknown, atime: unknown, mtime: unknown): void {
      timeArg(atime, "atime");
      const ms = timeArg(mtime, "mtime");
      setMtime(tree.existing(parsePath(path, "lutime"), false, "lutime").node, ms);
    },

    /** There is no disk to describe: every figure is 0, as on workerd. */
    statfsSync(path: unknown, opts?: unknown): Record<string, number | bigint> {
      const bigint = boolOption(options(opts), "bigint");
      tree.existing(parsePath(path, "statfs"), true, "statfs");
      const zero = bigint ? 0n : 0;
      return { type: zero, bsize: zero, blocks: zero, bfree: zero, bavail: zero, files: zero, ffree: zero };
    },
  };
}
