/**
 * The virtual file system behind node:fs in isolates (src/runtime/isolate/node/fs/): Cloudflare's
 * layout (/bundle read-only, /tmp per request, /dev devices), Node's API forms and errors, and the
 * guarantee that no path reaches the host's disk (checked under Node's permission model too).
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { Buffer } from "node:buffer";
import { spawnSync } from "node:child_process";
import * as hostFs from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { createTmpStore, createVirtualFs, MAX_FILE_BYTES, type TmpStore } from "../../src/runtime/isolate/node/fs/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bytes = (s: string) => new TextEncoder().encode(s);

// The module objects are typed loosely here, used the way user code uses node:fs.
function makeFs(files: Record<string, string> = { "worker.js": "export default {}", "config.txt": "cfg", "lib/util.js": "u" }) {
  let bundleCalls = 0;
  let current: TmpStore = createTmpStore();
  const vfs = createVirtualFs({
    bundleFiles: () => {
      bundleCalls++;
      return new Map(Object.entries(files).map(([k, v]) => [k, bytes(v)]));
    },
    tmp: () => current,
  });
  return {
    fs: vfs.fs as any,
    promises: vfs.promises as any,
    bundleCalls: () => bundleCalls,
    use(store: TmpStore) {
      current = store;
    },
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe("layout", () => {
  test("/ holds bundle, tmp and dev; /bundle one file per module, built once and only when used", () => {
    const { fs, bundleCalls } = makeFs();
    assert.deepEqual(fs.readdirSync("/"), ["bundle", "tmp", "dev"]);
    assert.equal(bundleCalls(), 0);
    assert.deepEqual(fs.readdirSync("/bundle"), ["config.txt", "lib", "worker.js"]);
    assert.deepEqual(fs.readdirSync("/bundle", { recursive: true }), ["config.txt", "lib", "lib/util.js", "worker.js"]);
    assert.equal(fs.readFileSync("/bundle/config.txt", "utf8"), "cfg");
    assert.equal(fs.readFileSync("/bundle/lib/util.js", "utf8"), "u");
    assert.deepEqual(fs.readdirSync("/dev"), ["full", "null", "random", "zero"]);
    assert.deepEqual(fs.readdirSync("/tmp"), []);
    assert.equal(bundleCalls(), 1);
  });

  test("a bundle file read is a copy: changing it does not change the file", () => {
    const { fs } = makeFs();
    const b = fs.readFileSync("/bundle/config.txt");
    b[0] = 0x58;
    assert.equal(fs.readFileSync("/bundle/config.txt", "utf8"), "cfg");
  });

  test("stat: modes, devices, epoch timestamps, utimes sets the modification time of /tmp files", () => {
    const { fs } = makeFs();
    const bundle = fs.statSync("/bundle/config.txt");
    assert.ok(bundle.isFile());
    assert.equal(bundle.size, 3);
    assert.equal(bundle.mode, 0o100444);
    assert.equal(bundle.dev, 0);
    assert.equal(bundle.mtimeMs, 0);
    assert.equal(bundle.mtime.getTime(), 0);
    assert.ok(fs.statSync("/bundle").isDirectory());
    const dev = fs.statSync("/dev/null");
    assert.ok(dev.isCharacterDevice());
    assert.equal(dev.dev, 1);
    assert.equal(fs.statSync("/tmp").mode, 0o40666);
    fs.writeFileSync("/tmp/t", "x");
    fs.utimesSync("/tmp/t", 1, 1700000000);
    assert.equal(fs.statSync("/tmp/t").mtimeMs, 1700000000_000);
    assert.equal(fs.statSync("/tmp/t", { bigint: true }).mtimeNs, 1700000000_000_000_000n);
    assert.equal(fs.statSync("/nope", { throwIfNoEntry: false }), undefined);
  });
});

describe("/bundle is read-only", () => {
  test("every kind of write fails with EPERM and changes nothing", () => {
    const { fs } = makeFs();
    const writes: [string, () => unknown][] = [
      ["writeFileSync new", () => fs.writeFileSync("/bundle/new.txt", "x")],
      ["writeFileSync existing", () => fs.writeFileSync("/bundle/config.txt", "x")],
      ["appendFileSync", () => fs.appendFileSync("/bundle/config.txt", "x")],
      ["openSync r+", () => fs.openSync("/bundle/config.txt", "r+")],
      ["mkdirSync", () => fs.mkdirSync("/bundle/d")],
      ["mkdirSync recursive", () => fs.mkdirSync("/bundle/d/e", { recursive: true })],
      ["unlinkSync", () => fs.unlinkSync("/bundle/config.txt")],
      ["rmSync", () => fs.rmSync("/bundle/lib", { recursive: true })],
      ["renameSync out", () => fs.renameSync("/bundle/config.txt", "/tmp/c")],
      ["symlinkSync", () => fs.symlinkSync("/dev/null", "/bundle/l")],
      ["truncateSync", () => fs.truncateSync("/bundle/config.txt")],
      ["copyFileSync onto", () => fs.copyFileSync("/dev/null", "/bundle/config.txt")],
      ["mkdtempSync", () => fs.mkdtempSync("/bundle/x-")],
      ["accessSync W_OK", () => fs.accessSync("/bundle/config.txt", fs.constants.W_OK)],
      ["rmdirSync /bundle", () => fs.rmdirSync("/bundle")],
      ["writeFileSync at /", () => fs.writeFileSync("/new.txt", "x")],
    ];
    for (const [name, write] of writes) assert.equal(codeOf(write), "EPERM", name);
    assert.equal(fs.readFileSync("/bundle/config.txt", "utf8"), "cfg");
    assert.deepEqual(fs.readdirSync("/bundle"), ["config.txt", "lib", "worker.js"]);
  });

  test("the promise and callback forms fail the same way", async () => {
    const { fs, promises } = makeFs();
    await assert.rejects(promises.writeFile("/bundle/x", "y"), { code: "EPERM", syscall: "open", path: "/bundle/x" });
    const err = await new Promise<any>((resolve) => fs.mkdir("/bundle/d", resolve));
    assert.equal(err.code, "EPERM");
  });
});

describe("nothing outside the mounts, nothing on the host", () => {
  test("/etc/passwd, ../ traversal, relative paths, URLs and Buffers give ENOENT", () => {
    const { fs } = makeFs();
    for (const p of ["/etc/passwd", "/tmp/../etc/passwd", "/bundle/../../etc/passwd", "etc/passwd", "../etc/passwd", new URL("file:///etc/passwd"), Buffer.from("/etc/passwd")]) {
      assert.equal(codeOf(() => fs.readFileSync(p)), "ENOENT", String(p));
      assert.equal(fs.existsSync(p), false, String(p));
    }
    assert.throws(() => fs.statSync("/etc/passwd"), { code: "ENOENT", errno: -2, syscall: "stat", path: "/etc/passwd", message: "ENOENT: no such file or directory, stat '/etc/passwd'" });
    assert.equal(codeOf(() => fs.writeFileSync("/etc/passwd", "x")), "ENOENT");
    // A file that certainly exists on the host: this test file.
    assert.equal(codeOf(() => fs.readFileSync(fileURLToPath(import.meta.url))), "ENOENT");
    assert.equal(codeOf(() => fs.readFileSync(new URL("http://example.com/x"))), "ERR_INVALID_URL_SCHEME");
  });

  test("a file written to /tmp is not on the host's /tmp", () => {
    const { fs } = makeFs();
    const name = `/tmp/ledge-vfs-probe-${process.pid}-${Date.now()}`;
    fs.writeFileSync(name, "only in memory");
    fs.mkdirSync(`${name}.d`);
    assert.equal(fs.readFileSync(name, "utf8"), "only in memory");
    assert.equal(hostFs.existsSync(name), false);
    assert.equal(hostFs.existsSync(`${name}.d`), false);
  });

  test("no module of the VFS imports node:fs (type-only imports aside)", () => {
    const dir = join(root, "src/runtime/isolate/node/fs");
    const files = hostFs.readdirSync(dir).filter((f) => f.endsWith(".ts"));
    assert.ok(files.length >= 8, `found ${files}`);
    const imported = new Set<string>();
    for (const file of files) {
      const src = hostFs.readFileSync(join(dir, file), "utf8");
      for (const m of src.matchAll(/^\s*(?:import(?!\s+type\b)[^;]*?from\s*|export[^;]*?from\s*|.*?\b(?:require|import)\s*\(\s*)["']([^"']+)["']/gm)) imported.add(m[1]!);
    }
    assert.ok(imported.has("node:stream") && imported.has("node:buffer"), [...imported].join(" "));
    const hostModules = [...imported].filter((s) => /^(node:)?fs(\/|$)/.test(s) || s === "node:child_process" || s === "node:module");
    assert.deepEqual(hostModules, []);
  });

  test("under Node's permission model with no host access but dist/, VFS calls succeed or fail inside the VFS", () => {
    const entry = join(root, "dist/runtime/isolate/node/fs/index.js");
    assert.ok(hostFs.existsSync(entry), "run `npm run build` first");
    const script = `
      const { createVirtualFs, createTmpStore } = await import(${JSON.stringify(entry)});
      const store = createTmpStore();
      const { fs, promises } = createVirtualFs({ bundleFiles: () => new Map([["a.txt", new Uint8Array([104, 105])]]), tmp: () => store });
      const out = {};
      const code = (fn) => { try { fn(); return "ok"; } catch (e) { return e.code; } };
      out.passwd = code(() => fs.readFileSync("/etc/passwd"));
      out.traversal = code(() => fs.readFileSync("/tmp/../etc/passwd"));
      out.hostFile = code(() => fs.readFileSync(${JSON.stringify(entry)}));
      out.write = code(() => fs.writeFileSync("/tmp/probe.txt", "x"));
      out.read = fs.readFileSync("/tmp/probe.txt", "utf8");
      out.bundle = fs.readFileSync("/bundle/a.txt", "utf8");
      out.mkdir = code(() => fs.mkdirSync("/tmp/a/b/c", { recursive: true }));
      out.symlink = code(() => fs.symlinkSync("/etc/passwd", "/tmp/pw"));
      out.viaLink = code(() => fs.readFileSync("/tmp/pw"));
      out.stream = await new Promise((resolve) => fs.createWriteStream("/tmp/s").on("error", (e) => resolve(e.code)).end("abc", () => resolve("ok")));
      out.promise = await promises.readFile("/tmp/s", "utf8");
      out.hostProbe = await import("node:fs").then((h) => code(() => h.readFileSync("/etc/passwd")));
      console.log(JSON.stringify(out));
    `;
    const r = spawnSync(process.execPath, ["--experimental-permission", `--allow-fs-read=${join(root, "dist")}/*`, "--no-warnings", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      passwd: "ENOENT",
      traversal: "ENOENT",
      hostFile: "ENOENT",
      write: "ok",
      read: "x",
      bundle: "hi",
      mkdir: "ok",
      symlink: "ok",
      viaLink: "ENOENT",
      stream: "ok",
      promise: "abc",
      // The child really is fenced in: the host's own fs is refused there.
      hostProbe: "ERR_ACCESS_DENIED",
    });
  });
});

describe("/tmp is per store", () => {
  test("two TmpStores are isolated; each keeps its own files", () => {
    const { fs, use } = makeFs();
    const a = createTmpStore();
    const b = createTmpStore();
    use(a);
    fs.writeFileSync("/tmp/shared-name", "from a");
    fs.mkdirSync("/tmp/dir-a");
    use(b);
    assert.equal(fs.existsSync("/tmp/shared-name"), false);
    assert.deepEqual(fs.readdirSync("/tmp"), []);
    fs.writeFileSync("/tmp/shared-name", "from b");
    use(a);
    assert.equal(fs.readFileSync("/tmp/shared-name", "utf8"), "from a");
    assert.deepEqual(fs.readdirSync("/tmp"), ["dir-a", "shared-name"]);
    use(b);
    assert.equal(fs.readFileSync("/tmp/shared-name", "utf8"), "from b");
  });

  test("stores chosen by AsyncLocalStorage stay apart across interleaved async requests", async () => {
    const als = new AsyncLocalStorage<TmpStore>();
    const fallback = createTmpStore();
    const { fs, promises } = createVirtualFs({ bundleFiles: () => new Map(), tmp: () => als.getStore() ?? fallback }) as any;
    const request = (id: string) =>
      als.run(createTmpStore(), async () => {
        await promises.writeFile("/tmp/id", id);
        await new Promise((r) => setTimeout(r, 5));
        await new Promise<void>((resolve, reject) => fs.appendFile("/tmp/id", "!", (err: Error | null) => (err ? reject(err) : resolve())));
        await new Promise((r) => setImmediate(r));
        return [await promises.readFile("/tmp/id", "utf8"), fs.readdirSync("/tmp")];
      });
    assert.deepEqual(await Promise.all([request("one"), request("two")]), [
      ["one!", ["id"]],
      ["two!", ["id"]],
    ]);
    assert.equal(fs.existsSync("/tmp/id"), false);
  });

  test("the byte budget: ENOSPC past maxBytes, bytes come back when files go", () => {
    const { fs, use } = makeFs();
    const store = createTmpStore({ maxBytes: 1000 });
    use(store);
    fs.writeFileSync("/tmp/a", Buffer.alloc(600));
    assert.equal(store.usedBytes, 600);
    assert.throws(() => fs.writeFileSync("/tmp/b", Buffer.alloc(600)), { code: "ENOSPC" });
    assert.throws(() => fs.copyFileSync("/tmp/a", "/tmp/c"), {
      code: "ENOSPC",
      message: "ENOSPC: no space left on device (/tmp holds at most 1000 bytes), copyfile '/tmp/a' -> '/tmp/c'",
    });
    fs.rmSync("/tmp/c");
    fs.linkSync("/tmp/a", "/tmp/a2");
    fs.unlinkSync("/tmp/a");
    assert.equal(store.usedBytes, 600, "still named by /tmp/a2");
    fs.rmSync("/tmp/a2");
    assert.equal(store.usedBytes, 0);
    fs.writeFileSync("/tmp/b", Buffer.alloc(600));
    fs.mkdirSync("/tmp/d/e", { recursive: true });
    fs.renameSync("/tmp/b", "/tmp/d/e/b");
    fs.rmSync("/tmp/d", { recursive: true });
    assert.equal(store.usedBytes, 0);
  });
});

describe("devices", () => {
  test("/dev/null swallows writes and reads empty", () => {
    const { fs } = makeFs();
    fs.writeFileSync("/dev/null", "gone");
    const fd = fs.openSync("/dev/null", "r+");
    assert.equal(fs.writeSync(fd, "more"), 4);
    const buf = Buffer.alloc(16, 0xaa);
    assert.equal(fs.readSync(fd, buf), 0);
    assert.ok(buf.every((b: number) => b === 0xaa));
    fs.closeSync(fd);
    assert.equal(fs.readFileSync("/dev/null").length, 0);
    assert.equal(fs.statSync("/dev/null").size, 0);
  });

  test("/dev/zero and /dev/random fill a buffer of fixed size; /dev/full reads zeros and refuses writes", () => {
    const { fs } = makeFs();
    const read = (device: string, size: number) => {
      const fd = fs.openSync(device, "r");
      const buf = Buffer.alloc(size, 0xaa);
      const n = fs.readSync(fd, buf, 0, size, null);
      fs.closeSync(fd);
      return { n, buf };
    };
    const zero = read("/dev/zero", 4096);
    assert.equal(zero.n, 4096);
    assert.ok(zero.buf.every((b: number) => b === 0));
    // Past 65,536 bytes, the most crypto.getRandomValues fills in one call.
    const random = read("/dev/random", 100_000);
    assert.equal(random.n, 100_000);
    assert.ok(new Set(random.buf.subarray(99_000)).size > 100, "the tail is random too");
    assert.notDeepEqual(read("/dev/random", 64).buf, read("/dev/random", 64).buf);
    const full = read("/dev/full", 32);
    assert.equal(full.n, 32);
    assert.ok(full.buf.every((b: number) => b === 0));
    assert.equal(codeOf(() => fs.writeFileSync("/dev/full", "x")), "EPERM");
    assert.equal(codeOf(() => fs.writeFileSync("/dev/random", "x")), "EPERM");
    fs.writeFileSync("/dev/zero", "swallowed");
  });
});

describe("descriptors", () => {
  test("open/write/read with and without positions, append mode, fstat, ftruncate, close", () => {
    const { fs } = makeFs();
    const fd = fs.openSync("/tmp/f", "w+");
    assert.equal(fs.writeSync(fd, "Hello World"), 11);
    assert.equal(fs.writeSync(fd, Buffer.from("!!")), 2);
    const buf = Buffer.alloc(13);
    assert.equal(fs.readSync(fd, buf), 0, "the offset is at the end");
    assert.equal(fs.readSync(fd, buf, 0, 13, 0), 13);
    assert.equal(buf.toString(), "Hello World!!");
    assert.equal(fs.writeSync(fd, "J", 0), 1, "a positioned write leaves the offset");
    assert.equal(fs.readSync(fd, buf, { position: 0 }), 13);
    assert.equal(buf.toString(), "Jello World!!");
    assert.equal(fs.readvSync(fd, [Buffer.alloc(5), Buffer.alloc(20)], 0), 13);
    assert.equal(fs.fstatSync(fd).size, 13);
    fs.ftruncateSync(fd, 5);
    assert.equal(fs.readFileSync("/tmp/f", "utf8"), "Jello");
    fs.ftruncateSync(fd, 8);
    assert.deepEqual([...fs.readFileSync("/tmp/f").subarray(5)], [0, 0, 0]);
    fs.closeSync(fd);
    assert.throws(() => fs.readSync(fd, buf), { code: "EBADF" });
    assert.throws(() => fs.closeSync(fd), { code: "EBADF" });

    const app = fs.openSync("/tmp/f", "a");
    fs.writeSync(app, "++", 0);
    fs.closeSync(app);
    assert.equal(fs.readFileSync("/tmp/f").subarray(8).toString(), "++", "append ignores the position");

    const ro = fs.openSync("/tmp/f", "r");
    assert.throws(() => fs.writeSync(ro, "x"), { code: "EBADF" });
    fs.closeSync(ro);
    const dir = fs.openSync("/tmp", "r");
    assert.throws(() => fs.readSync(dir, buf), { code: "EISDIR" });
    assert.ok(fs.fstatSync(dir).isDirectory());
    fs.closeSync(dir);
    assert.throws(() => fs.openSync("/tmp/f", "wx"), { code: "EEXIST" });
    assert.throws(() => fs.openSync("/tmp/missing", "r"), { code: "ENOENT" });
    assert.throws(() => fs.openSync("/tmp", "w"), { code: "EISDIR" });
  });

  test("a descriptor reads a file of its own request's store after the store changed", () => {
    const { fs, use } = makeFs();
    const a = createTmpStore();
    use(a);
    fs.writeFileSync("/tmp/keep", "kept");
    const fd = fs.openSync("/tmp/keep", "r");
    use(createTmpStore());
    assert.equal(fs.readFileSync(fd, "utf8"), "kept");
    fs.closeSync(fd);
  });

  test("the callback forms deliver after the caller's code, with Node's result arguments", async () => {
    const { fs } = makeFs();
    const fd = fs.openSync("/tmp/cb", "w+");
    let sync = true;
    const [written, data] = await new Promise<any[]>((resolve, reject) =>
      fs.write(fd, "abc", (err: Error | null, n: number, s: string) => (err ? reject(err) : resolve([n, s, sync]))),
    );
    sync = false;
    assert.deepEqual([written, data], [3, "abc"]);
    const [n, buf] = await new Promise<any[]>((resolve, reject) =>
      fs.read(fd, Buffer.alloc(3), 0, 3, 0, (err: Error | null, got: number, b: Buffer) => (err ? reject(err) : resolve([got, b]))),
    );
    assert.equal(n, 3);
    assert.equal(buf.toString(), "abc");
    let called = false;
    fs.readFile("/tmp/cb", "utf8", () => (called = true));
    assert.equal(called, false);
    await new Promise((r) => setImmediate(r));
    assert.equal(called, true);
    assert.throws(() => fs.readFile("/tmp/cb"), { code: "ERR_INVALID_ARG_TYPE" }, "a missing callback throws at once");
    assert.throws(() => fs.stat(42, () => {}), { code: "ERR_INVALID_ARG_TYPE" }, "argument errors throw at once");
    assert.equal(await new Promise((r) => fs.exists("/tmp/cb", r)), true);
    fs.closeSync(fd);
  });

  test("FileHandle: read, write, stat, close, and EBADF after close", async () => {
    const { promises } = makeFs();
    const h = await promises.open("/tmp/h", "w+");
    assert.equal((await h.write("handle")).bytesWritten, 6);
    const { bytesRead, buffer } = await h.read(Buffer.alloc(6), 0, 6, 0);
    assert.equal(bytesRead, 6);
    assert.equal(buffer.toString(), "handle");
    assert.equal((await h.stat()).size, 6);
    await h.close();
    await h.close();
    await assert.rejects(h.read(Buffer.alloc(1)), { code: "EBADF" });
    await promises.writeFile("/tmp/iter", (async function* () {
      yield "a";
      yield Buffer.from("b");
    })());
    assert.equal(await promises.readFile("/tmp/iter", "utf8"), "ab");
  });
});

describe("streams", () => {
  test("createWriteStream then createReadStream with start/end; pipeline between VFS files", async () => {
    const { fs } = makeFs();
    const ws = fs.createWriteStream("/tmp/s.txt");
    const opened = new Promise((r) => ws.once("open", r));
    for (let i = 0; i < 100; i++) ws.write(`line ${i}\n`);
    await new Promise<void>((resolve, reject) => ws.on("error", reject).end("end\n", resolve));
    assert.equal(typeof (await opened), "number");
    const whole = fs.readFileSync("/tmp/s.txt", "utf8");
    assert.ok(whole.startsWith("line 0\nline 1\n") && whole.endsWith("line 99\nend\n"));
    assert.equal(ws.bytesWritten, whole.length);

    const chunks: string[] = [];
    await pipeline(fs.createReadStream("/tmp/s.txt", { start: 5, end: 12, encoding: "utf8" }), new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) }));
    assert.equal(chunks.join(""), whole.slice(5, 13));

    await pipeline(fs.createReadStream("/tmp/s.txt", { highWaterMark: 7 }), fs.createWriteStream("/tmp/copy.txt"));
    assert.equal(fs.readFileSync("/tmp/copy.txt", "utf8"), whole);
  });

  test("a stream of /dev/zero with `end` reads exactly that much; a missing file errors with ENOENT", async () => {
    const { fs } = makeFs();
    let total = 0;
    for await (const chunk of fs.createReadStream("/dev/zero", { end: 199_999 })) total += chunk.length;
    assert.equal(total, 200_000);
    const err = await new Promise<any>((resolve) => fs.createReadStream("/tmp/none").on("error", resolve));
    assert.equal(err.code, "ENOENT");
    const werr = await new Promise<any>((resolve) => fs.createWriteStream("/bundle/x").on("error", resolve));
    assert.equal(werr.code, "EPERM");
  });
});

describe("paths and directories", () => {
  test("mkdir, readdir with file types, rename, copyFile, rm, rmdir", () => {
    const { fs } = makeFs();
    assert.equal(fs.mkdirSync("/tmp/a/b/c", { recursive: true }), "/tmp/a");
    assert.equal(fs.mkdirSync("/tmp/a/b/c", { recursive: true }), undefined);
    assert.throws(() => fs.mkdirSync("/tmp/a"), { code: "EEXIST" });
    fs.writeFileSync("/tmp/a/f.txt", "f");
    assert.throws(() => fs.mkdirSync("/tmp/a/f.txt/x", { recursive: true }), { code: "ENOTDIR" });
    const ents = fs.readdirSync("/tmp/a", { withFileTypes: true });
    assert.deepEqual(ents.map((d: any) => [d.name, d.isDirectory(), d.isFile(), d.parentPath]), [
      ["b", true, false, "/tmp/a"],
      ["f.txt", false, true, "/tmp/a"],
    ]);
    assert.throws(() => fs.readFileSync("/tmp/a"), { code: "EISDIR" });
    assert.throws(() => fs.readdirSync("/tmp/a/f.txt"), { code: "ENOTDIR" });
    assert.throws(() => fs.readFileSync("/tmp/a/f.txt/"), { code: "ENOTDIR" });
    assert.throws(() => fs.rmdirSync("/tmp/a"), { code: "ENOTEMPTY" });
    assert.throws(() => fs.rmSync("/tmp/a"), { code: "ERR_FS_EISDIR" });
    assert.throws(() => fs.unlinkSync("/tmp/a"), { code: "EISDIR" });
    assert.throws(() => fs.renameSync("/tmp/a", "/tmp/a/b/inside"), { code: "EINVAL" });
    fs.renameSync("/tmp/a/f.txt", "/tmp/g.txt");
    assert.throws(() => fs.renameSync("/tmp/none", "/tmp/x"), { code: "ENOENT", message: "ENOENT: no such file or directory, rename '/tmp/none' -> '/tmp/x'" });
    fs.copyFileSync("/tmp/g.txt", "/tmp/h.txt");
    assert.throws(() => fs.copyFileSync("/tmp/g.txt", "/tmp/h.txt", fs.constants.COPYFILE_EXCL), { code: "EEXIST" });
    fs.writeFileSync("/tmp/g.txt", "changed");
    assert.equal(fs.readFileSync("/tmp/h.txt", "utf8"), "f");
    fs.cpSync("/tmp/a", "/tmp/a-copy", { recursive: true });
    assert.deepEqual(fs.readdirSync("/tmp/a-copy", { recursive: true }), ["b", "b/c"]);
    fs.rmSync("/tmp/a", { recursive: true });
    fs.rmSync("/tmp/a", { recursive: true, force: true });
    assert.throws(() => fs.rmSync("/tmp/a"), { code: "ENOENT" });
    fs.rmdirSync("/tmp/a-copy/b/c");
    assert.deepEqual(fs.readdirSync("/tmp"), ["a-copy", "g.txt", "h.txt"]);
    const t = fs.mkdtempSync("/tmp/job-");
    assert.match(t, /^\/tmp\/job-[A-Za-z0-9]{6}$/);
    assert.ok(fs.statSync(t).isDirectory());
  });

  test("symlinks: across mounts, readlink, realpath, lstat, dangling and looping links", () => {
    const { fs } = makeFs();
    fs.symlinkSync("/bundle/config.txt", "/tmp/cfg");
    assert.equal(fs.readFileSync("/tmp/cfg", "utf8"), "cfg");
    assert.equal(fs.readlinkSync("/tmp/cfg"), "/bundle/config.txt");
    assert.equal(fs.realpathSync("/tmp/cfg"), "/bundle/config.txt");
    assert.ok(fs.lstatSync("/tmp/cfg").isSymbolicLink());
    assert.ok(fs.statSync("/tmp/cfg").isFile());
    assert.equal(codeOf(() => fs.writeFileSync("/tmp/cfg", "x")), "EPERM", "the target stays read-only");
    fs.mkdirSync("/tmp/real");
    fs.symlinkSync("real", "/tmp/rel");
    fs.writeFileSync("/tmp/rel/through.txt", "t");
    assert.equal(fs.readFileSync("/tmp/real/through.txt", "utf8"), "t");
    assert.equal(fs.realpathSync("/tmp/rel/through.txt"), "/tmp/real/through.txt");
    fs.symlinkSync("/tmp/nowhere", "/tmp/dangling");
    assert.throws(() => fs.statSync("/tmp/dangling"), { code: "ENOENT" });
    assert.ok(fs.lstatSync("/tmp/dangling").isSymbolicLink());
    fs.writeFileSync("/tmp/dangling", "created through the link");
    assert.equal(fs.readFileSync("/tmp/nowhere", "utf8"), "created through the link");
    fs.symlinkSync("/tmp/loop2", "/tmp/loop1");
    fs.symlinkSync("/tmp/loop1", "/tmp/loop2");
    assert.throws(() => fs.readFileSync("/tmp/loop1"), { code: "ELOOP" });
    assert.throws(() => fs.readlinkSync("/tmp/real"), { code: "EINVAL" });
    assert.throws(() => fs.symlinkSync("x", "/tmp/cfg"), { code: "EEXIST" });
    fs.unlinkSync("/tmp/cfg");
    assert.equal(fs.readFileSync("/bundle/config.txt", "utf8"), "cfg", "unlinking the link leaves the target");
  });

  test("access, chmod and chown (no-ops), opendir, statfs", async () => {
    const { fs, promises } = makeFs();
    fs.writeFileSync("/tmp/p", "p");
    fs.accessSync("/tmp/p", fs.constants.R_OK | fs.constants.W_OK);
    fs.accessSync("/bundle/config.txt", fs.constants.R_OK);
    assert.throws(() => fs.accessSync("/tmp/none"), { code: "ENOENT" });
    fs.chmodSync("/tmp/p", 0o000);
    fs.chownSync("/tmp/p", 1000, 1000);
    assert.equal(fs.statSync("/tmp/p").mode, 0o100666);
    assert.throws(() => fs.chmodSync("/tmp/none", 0o600), { code: "ENOENT" });
    const dir = await promises.opendir("/bundle");
    const names: string[] = [];
    for await (const d of dir) names.push(d.name);
    assert.deepEqual(names, ["config.txt", "lib", "worker.js"]);
    assert.deepEqual(fs.statfsSync("/").bsize, 0);
  });

  test("limits: 48 segments, 4,096 characters, 128 MB per file", () => {
    const { fs } = makeFs();
    assert.throws(() => fs.statSync(`/tmp${"/a".repeat(48)}`), { code: "ENAMETOOLONG" });
    assert.throws(() => fs.statSync(`/tmp/${"a".repeat(4100)}`), { code: "ENAMETOOLONG" });
    assert.equal(codeOf(() => fs.statSync(`/tmp${"/a".repeat(47)}`)), "ENOENT");
    const fd = fs.openSync("/tmp/big", "w");
    assert.throws(() => fs.ftruncateSync(fd, MAX_FILE_BYTES + 1), { code: "EPERM" });
    assert.throws(() => fs.writeSync(fd, Buffer.alloc(1), 0, 1, MAX_FILE_BYTES), { code: "EPERM" });
    fs.closeSync(fd);
  });
});

describe("the module surface", () => {
  const { fs, promises } = makeFs();

  test("node:fs and node:fs/promises have the common functions", () => {
    const fsNames =
      "accessSync existsSync statSync lstatSync fstatSync readFileSync writeFileSync appendFileSync readdirSync mkdirSync mkdtempSync rmSync rmdirSync unlinkSync renameSync copyFileSync cpSync openSync closeSync readSync writeSync readvSync writevSync ftruncateSync truncateSync fsyncSync fdatasyncSync symlinkSync readlinkSync realpathSync linkSync chmodSync chownSync lchownSync fchmodSync fchownSync utimesSync futimesSync lutimesSync opendirSync statfsSync access exists stat lstat fstat readFile writeFile appendFile readdir mkdir mkdtemp rm rmdir unlink rename copyFile cp open close read write readv writev ftruncate truncate fsync fdatasync symlink readlink realpath link chmod chown utimes opendir statfs createReadStream createWriteStream openAsBlob";
    for (const name of fsNames.split(" ")) assert.equal(typeof fs[name], "function", `fs.${name}`);
    assert.equal(typeof fs.realpathSync.native, "function");
    for (const cls of ["Stats", "Dirent", "Dir", "ReadStream", "WriteStream"]) assert.equal(typeof fs[cls], "function", cls);
    assert.equal(fs.constants.O_CREAT, 0o100);
    assert.equal(fs.promises, promises);
    for (const name of "access appendFile chmod chown copyFile cp link lstat lutimes mkdir mkdtemp open opendir readFile readdir readlink realpath rename rm rmdir stat statfs symlink truncate unlink utimes writeFile".split(" ")) {
      assert.equal(typeof promises[name], "function", `promises.${name}`);
    }
    assert.ok(fs.statSync("/") instanceof fs.Stats);
  });

  test("glob and watch throw a clear not-implemented error", () => {
    for (const [name, call] of [
      ["globSync", () => fs.globSync("*")],
      ["glob", () => fs.glob("*", () => {})],
      ["watch", () => fs.watch("/tmp")],
      ["watchFile", () => fs.watchFile("/tmp/x", () => {})],
      ["unwatchFile", () => fs.unwatchFile("/tmp/x")],
      ["promises.glob", () => promises.glob("*")],
      ["promises.watch", () => promises.watch("/tmp")],
    ] as const) {
      assert.throws(call, { code: "ERR_METHOD_NOT_IMPLEMENTED", message: new RegExp(`fs\\.${name.replace(".", "\\.")}\\(\\) method is not implemented`) }, name);
    }
  });
});

after(() => {
  // Nothing here touches the host's disk; this asserts it once more for the probe names used above.
  assert.deepEqual(hostFs.readdirSync("/tmp").filter((n) => n.startsWith(`ledge-vfs-probe-${process.pid}-`)), []);
});
