/**
 * `node:fs` from a Worker is Cloudflare's virtual file system: /bundle holds the app's module,
 * /tmp is private to each request and gone after it, nothing reaches the host's disk. Runs the real
 * CLI; the unit tests of the file system itself are test/unit/vfs.test.ts.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

const WORKER = `
import fs from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
const MARKER = "bundle-marker-51c2";
const code = (f) => { try { return "ok " + f(); } catch (e) { return e.code; } };
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/write") {
      const before = fs.existsSync("/tmp/note.txt");
      await writeFile("/tmp/note.txt", url.searchParams.get("v"));
      fs.mkdirSync("/tmp/d/e", { recursive: true });
      return Response.json({ before, read: await readFile("/tmp/note.txt", "utf8"), listing: fs.readdirSync("/tmp").sort() });
    }
    if (url.pathname === "/read") {
      return Response.json({ exists: fs.existsSync("/tmp/note.txt"), listing: fs.readdirSync("/tmp") });
    }
    const bundle = fs.readdirSync("/bundle");
    return Response.json({
      bundle,
      bundleHasCode: fs.readFileSync("/bundle/" + bundle[0], "utf8").includes(MARKER),
      writeBundle: code(() => fs.writeFileSync("/bundle/x.js", "x")),
      hostFile: code(() => fs.readFileSync("/etc/passwd", "utf8")),
      traversal: code(() => fs.readFileSync("/tmp/../etc/hostname", "utf8")),
      hostWrite: code(() => fs.writeFileSync("/var/tmp/ledge-escape", "x")),
      devNull: fs.readFileSync("/dev/null").length,
      random: fs.readSync(fs.openSync("/dev/random", "r"), new Uint8Array(16)),
      root: fs.readdirSync("/").sort(),
    });
  },
};
`;

let ledge: RunningLedge;
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

before(async () => {
  const dir = writeProject(
    {
      "wrangler.toml": `name = "vfs"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\n`,
      "src/index.js": WORKER,
    },
    "ledge-node-fs-",
  );
  cleanups.push(() => removeDir(dir));
  ledge = await startLedge(dir, { args: ["--isolates", "1", "--no-access-log"] });
  cleanups.push(() => ledge.stop());
});

describe("node:fs in a Worker", () => {
  test("/bundle holds the app's module, read-only; the host's files are not there", async () => {
    const res = await fetch(ledge.url);
    assert.equal(res.status, 200, await res.clone().text());
    const body = await res.json();
    assert.deepEqual(body, {
      bundle: ["index.js"],
      bundleHasCode: true,
      writeBundle: "EPERM",
      hostFile: "ENOENT",
      traversal: "ENOENT",
      hostWrite: "ENOENT",
      devNull: 0,
      random: 16,
      root: ["bundle", "dev", "tmp"],
    });
    assert.equal(existsSync("/var/tmp/ledge-escape"), false);
  });

  test("/tmp is private to each request and gone after it", async () => {
    const first = await (await fetch(`${ledge.url}/write?v=one`)).json();
    assert.deepEqual(first, { before: false, read: "one", listing: ["d", "note.txt"] });
    // Two requests at once, each writing its own value, each reading back only its own.
    const [a, b] = await Promise.all([fetch(`${ledge.url}/write?v=a`), fetch(`${ledge.url}/write?v=b`)].map(async (p) => (await p).json()));
    assert.equal(a.read, "a");
    assert.equal(b.read, "b");
    assert.equal(a.before, false);
    assert.equal(b.before, false);
    assert.deepEqual(await (await fetch(`${ledge.url}/read`)).json(), { exists: false, listing: [] });
  });
});
