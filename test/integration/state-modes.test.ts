/**
 * State is private to the user that runs Ledge: a persist folder is created 0700 (an existing one is
 * narrowed to 0700), and every file in it is 0600: SQLite databases with their -wal and -shm files,
 * KV namespaces, the alarm list, secrets and the node key. The same holds for `ledge kv` and
 * `ledge secret` on a folder they create, and for the project's .ledge/build cache.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { removeDir, runLedge, withLedge, writeProject } from "../helpers/ledge.js";

const TOML = `
name = "modes"
main = "index.js"
compatibility_date = "2026-11-01"

[[kv_namespaces]]
binding = "KV"
id = "modes-kv"

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]
`;

const WORKER = `
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  async bump() {
    const n = ((await this.ctx.storage.get("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", n);
    await this.ctx.storage.setAlarm(Date.now() + 3_600_000);
    return n;
  }
  alarm() {}
}
export default {
  async fetch(request, env) {
    await env.KV.put("k", "v");
    return Response.json({ n: await env.COUNTER.getByName("one").bump(), kv: await env.KV.get("k") });
  },
};
`;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) removeDir(d);
});

/** `[relative path, mode]` of everything below `dir`, the folder itself first. */
function modes(dir: string): [string, number][] {
  const out: [string, number][] = [[".", statSync(dir).mode & 0o777]];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath, e.name);
    out.push([p.slice(dir.length + 1), statSync(p).mode & 0o777]);
  }
  return out;
}

function assertPrivate(dir: string): [string, number][] {
  const all = modes(dir);
  for (const [p, mode] of all) {
    const isDir = statSync(join(dir, p)).isDirectory();
    assert.equal(mode, isDir ? 0o700 : 0o600, `${p} has mode ${mode.toString(8)}`);
  }
  return all;
}

test("serve: an existing persist folder is narrowed to 0700 and every file written in it is 0600, SQLite -wal and -shm included", async () => {
  const dir = writeProject({ "wrangler.toml": TOML, "index.js": WORKER }, "ledge-modes-");
  const state = mkdtempSync(join(tmpdir(), "ledge-modes-state-"));
  dirs.push(dir, state);
  chmodSync(state, 0o755);
  const put = await runLedge(["secret", "put", "TOKEN", dir, "--persist-to", state], { input: "x" });
  assert.equal(put.code, 0, put.stderr);
  await withLedge(dir, { args: ["--persist-to", state, "--no-access-log"] }, async (l) => {
    assert.deepEqual(await (await fetch(l.url)).json(), { n: 1, kv: "v" });
    // Checked while the node runs: its databases are open, so their -wal and -shm files exist.
    const names = assertPrivate(state).map(([p]) => p);
    for (const suffix of [".sqlite", ".sqlite-wal", ".sqlite-shm"]) {
      assert.ok(names.some((p) => p.startsWith("do/modes-Counter/") && p.endsWith(suffix)), `an object database file ending ${suffix}: ${names.join(", ")}`);
      assert.ok(names.some((p) => p.startsWith("kv/modes-kv") && p.endsWith(suffix)), `a KV file ending ${suffix}: ${names.join(", ")}`);
    }
    for (const f of ["secret.key", "secrets/modes.json", "kv/modes-kv.owner"]) assert.ok(names.includes(f), `${f} exists`);
  });
  assertPrivate(join(dir, ".ledge", "build"));
});

test("the default persist folder, and folders made by ledge kv and ledge secret, are private", async () => {
  const dir = writeProject({ "wrangler.toml": TOML, "index.js": WORKER }, "ledge-modes-default-");
  dirs.push(dir);
  await withLedge(dir, { args: ["--no-access-log"] }, async (l) => {
    assert.equal((await fetch(l.url)).status, 200);
    assertPrivate(join(dir, ".ledge", "state"));
  });
  const parent = mkdtempSync(join(tmpdir(), "ledge-modes-cli-"));
  dirs.push(parent);
  const kv = await runLedge(["kv", "key", "put", "a", "b", "--namespace-id", "cli-ns", "--persist-to", join(parent, "kv-state")], { cwd: parent });
  assert.equal(kv.code, 0, kv.stderr);
  assertPrivate(join(parent, "kv-state"));
  const secret = await runLedge(["secret", "put", "TOKEN", "--name", "cli", "--persist-to", join(parent, "secret-state")], { cwd: parent, input: "v" });
  assert.equal(secret.code, 0, secret.stderr);
  assertPrivate(join(parent, "secret-state"));
});
