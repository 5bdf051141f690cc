import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kvCommand } from "../../src/cli/kv.js";
import { KvStore, kvDbPath } from "../../src/kv/index.js";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "ledge-kv-cli-"));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the command with captured output; stdout is kept as bytes so raw values can be checked. */
async function run(...argv: string[]): Promise<{ code: number; out: Buffer; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: string[] = [];
  const code = await kvCommand(argv, {
    stdout: { write: (c: string | Uint8Array) => out.push(Buffer.from(c)) },
    stderr: { write: (c: string | Uint8Array) => err.push(Buffer.from(c).toString()) },
  });
  const all = Buffer.concat(out);
  return { code, out: all, stdout: all.toString("utf8"), stderr: err.join("") };
}

describe("ledge kv with --namespace-id", () => {
  let state: string;
  let ns: string[];
  before(() => {
    state = join(dir, "state");
    ns = ["--namespace-id", "CLI_NS", "--persist-to", state];
  });

  test("key put then get, as text and as raw bytes", async () => {
    const put = await run("key", "put", "greeting", "héllo", ...ns);
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /Wrote key "greeting"/);
    const text = await run("key", "get", "greeting", "--text", ...ns);
    assert.equal(text.code, 0);
    assert.equal(text.stdout, "héllo\n");
    const raw = await run("key", "get", "greeting", ...ns);
    assert.deepEqual(raw.out, Buffer.from("héllo"), "raw bytes, no newline");
  });

  test("key put --path stores a file's exact bytes", async () => {
    const file = join(dir, "blob.bin");
    writeFileSync(file, Buffer.from([0, 1, 2, 255]));
    assert.equal((await run("key", "put", "blob", "--path", file, ...ns)).code, 0);
    assert.deepEqual((await run("key", "get", "blob", ...ns)).out, Buffer.from([0, 1, 2, 255]));
  });

  test("the data lands in the namespace file the runtime opens", async () => {
    await run("key", "put", "shared", "v", "--metadata", '{"by":"cli"}', "--expiration-ttl", "3600", ...ns);
    const store = new KvStore(kvDbPath(state, "CLI_NS"));
    const entry = store.get("shared");
    store.close();
    assert.ok(entry);
    assert.deepEqual(entry.metadata, { by: "cli" });
    const expected = Math.floor(Date.now() / 1000) + 3600;
    assert.ok(Math.abs((entry.expiration ?? 0) - expected) <= 2);
  });

  test("key list prints JSON like wrangler, with --prefix", async () => {
    await run("key", "put", "list/a", "1", "--metadata", '{"n":1}', ...ns);
    await run("key", "put", "list/b", "2", "--ttl", "600", ...ns);
    await run("key", "put", "other", "3", ...ns);
    const res = await run("key", "list", "--prefix", "list/", ...ns);
    assert.equal(res.code, 0);
    const keys = JSON.parse(res.stdout) as { name: string; expiration?: number; metadata?: unknown }[];
    assert.deepEqual(keys.map((k) => k.name), ["list/a", "list/b"]);
    assert.deepEqual(keys[0], { name: "list/a", metadata: { n: 1 } });
    assert.equal(typeof keys[1]?.expiration, "number");
    assert.equal(res.stdout, `${JSON.stringify(keys, null, 2)}\n`);
  });

  test("key list walks every page", async () => {
    const file = join(dir, "many.json");
    writeFileSync(file, JSON.stringify(Array.from({ length: 1500 }, (_, i) => ({ key: `many/${String(i).padStart(4, "0")}`, value: "x" }))));
    assert.equal((await run("bulk", "put", file, ...ns)).code, 0);
    const keys = JSON.parse((await run("key", "list", "--prefix", "many/", ...ns)).stdout) as unknown[];
    assert.equal(keys.length, 1500);
  });

  test("key delete, and get of a missing key fails", async () => {
    await run("key", "put", "gone", "soon", ...ns);
    const del = await run("key", "delete", "gone", ...ns);
    assert.equal(del.code, 0);
    const get = await run("key", "get", "gone", ...ns);
    assert.equal(get.code, 1);
    assert.equal(get.stderr, "Value not found\n");
    assert.equal(get.out.length, 0);
  });

  test("bulk put with base64, metadata and expiration, then bulk delete", async () => {
    const file = join(dir, "bulk.json");
    const expiration = Math.floor(Date.now() / 1000) + 7200;
    writeFileSync(
      file,
      JSON.stringify([
        { key: "b/plain", value: "text value" },
        { key: "b/bin", value: Buffer.from([9, 8, 7]).toString("base64"), base64: true },
        { key: "b/meta", value: "m", metadata: { tag: 1 }, expiration },
        { key: "b/ttl", value: "t", expiration_ttl: 120 },
      ]),
    );
    const res = await run("bulk", "put", file, ...ns);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Wrote 4 key-value pairs/);
    assert.equal((await run("key", "get", "b/plain", "--text", ...ns)).stdout, "text value\n");
    assert.deepEqual((await run("key", "get", "b/bin", ...ns)).out, Buffer.from([9, 8, 7]));
    const listed = JSON.parse((await run("key", "list", "--prefix", "b/", ...ns)).stdout) as { name: string; expiration?: number; metadata?: unknown }[];
    assert.deepEqual(listed.find((k) => k.name === "b/meta"), { name: "b/meta", expiration, metadata: { tag: 1 } });

    const delFile = join(dir, "bulk-del.json");
    writeFileSync(delFile, JSON.stringify(["b/plain", "b/bin", "b/never"]));
    const del = await run("bulk", "delete", delFile, ...ns);
    assert.equal(del.code, 0, del.stderr);
    const after = JSON.parse((await run("key", "list", "--prefix", "b/", ...ns)).stdout) as { name: string }[];
    assert.deepEqual(after.map((k) => k.name), ["b/meta", "b/ttl"]);
  });

  test("bulk put validates every item before writing any", async () => {
    const file = join(dir, "bad-bulk.json");
    writeFileSync(file, JSON.stringify([{ key: "ok/1", value: "v" }, { key: "ok/2" }, { key: "", value: "v" }, { key: "t", value: "v", expiration_ttl: 5 }]));
    const res = await run("bulk", "put", file, ...ns);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /item 1: "value" must be a string/);
    assert.match(res.stderr, /item 2: Key name cannot be empty\./);
    assert.match(res.stderr, /item 3: KV PUT failed: 400 Invalid expiration_ttl of 5/);
    assert.equal((await run("key", "get", "ok/1", ...ns)).code, 1, "nothing was written");
  });

  test("limit errors from the binding are reported with a non-zero exit", async () => {
    const res = await run("key", "put", "k", "v", "--expiration-ttl", "30", ...ns);
    assert.equal(res.code, 1);
    assert.equal(res.stderr, "error: KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60.\n");
    const long = await run("key", "put", "x".repeat(513), "v", ...ns);
    assert.match(long.stderr, /414 UTF-8 encoded length of 513/);
  });
});

describe("ledge kv argument errors", () => {
  const ns = () => ["--namespace-id", "ERR_NS", "--persist-to", join(dir, "err-state")];

  test("help and unknown commands", async () => {
    const help = await run("--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /ledge kv key put/);
    assert.match(help.stdout, /ledge kv bulk delete/);
    const unknown = await run("key", "frobnicate", ...ns());
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command "ledge kv key frobnicate"/);
    const cmdHelp = await run("key", "put", "--help");
    assert.equal(cmdHelp.code, 0);
    assert.match(cmdHelp.stdout, /^Usage: ledge kv key put <key> \[value\]/);
  });

  test("missing or extra arguments and unknown flags", async () => {
    const missing = await run("key", "get", ...ns());
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Missing argument <key>/);
    const extra = await run("key", "delete", "a", "b", ...ns());
    assert.match(extra.stderr, /Unexpected argument "b"/);
    const flag = await run("key", "get", "a", "--nope", ...ns());
    assert.equal(flag.code, 1);
    assert.match(flag.stderr, /--nope/);
  });

  test("namespace selection is required and exclusive", async () => {
    const none = await run("key", "get", "a");
    assert.equal(none.code, 1);
    assert.match(none.stderr, /exactly one of --binding <NAME> or --namespace-id <ID>/);
    const both = await run("key", "get", "a", "--binding", "X", "--namespace-id", "Y");
    assert.equal(both.code, 1);
  });

  test("value and --path are exclusive; numbers and JSON are checked", async () => {
    assert.match((await run("key", "put", "k", ...ns())).stderr, /exactly one of a value argument or --path/);
    assert.match((await run("key", "put", "k", "v", "--path", "f", ...ns())).stderr, /exactly one of a value/);
    const meta = await run("key", "put", "k", "v", "--metadata", "{oops", ...ns());
    assert.equal(meta.code, 1);
    assert.match(meta.stderr, /--metadata is not valid JSON/);
    assert.match((await run("key", "put", "k", "v", "--expiration", "soon", ...ns())).stderr, /--expiration must be a number of seconds/);
  });

  test("bulk files must exist and hold a JSON array", async () => {
    assert.match((await run("bulk", "put", join(dir, "nope.json"), ...ns())).stderr, /Cannot read/);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{not json");
    assert.match((await run("bulk", "put", bad, ...ns())).stderr, /is not valid JSON/);
    const obj = join(dir, "obj.json");
    writeFileSync(obj, '{"key":"a"}');
    assert.match((await run("bulk", "put", obj, ...ns())).stderr, /must contain a JSON array, not object/);
    writeFileSync(obj, '["a", 3]');
    assert.match((await run("bulk", "delete", obj, ...ns())).stderr, /item 1 is 3, not a string/);
  });

  test("a namespace id with path tricks is refused", async () => {
    const res = await run("key", "get", "a", "--namespace-id", "../escape", "--persist-to", join(dir, "x"));
    assert.equal(res.code, 1);
    assert.match(res.stderr, /is not allowed/);
  });

  test("without --persist-to the state folder is <cwd>/.ledge/state", async () => {
    const project = join(dir, "project-no-config");
    mkdirSync(project);
    assert.equal((await run("key", "put", "k", "v", "--namespace-id", "DEF", "--cwd", project)).code, 0);
    const store = new KvStore(kvDbPath(join(project, ".ledge", "state"), "DEF"));
    assert.ok(store.get("k"));
    store.close();
  });
});

describe("ledge kv with --binding (through the project config)", () => {
  let project: string;
  before(() => {
    project = join(dir, "project");
    mkdirSync(join(project, "src"), { recursive: true });
    writeFileSync(join(project, "src", "index.js"), "export default { fetch() { return new Response('ok'); } };\n");
    writeFileSync(
      join(project, "wrangler.toml"),
      [
        'name = "kv-cli-app"',
        'main = "src/index.js"',
        'compatibility_date = "2026-11-01"',
        "kv_namespaces = [",
        '  { binding = "MY_KV", id = "0f2ac74b498b48028cb68387c421e279" },',
        '  { binding = "NO_ID" },',
        "]",
        "",
      ].join("\n"),
    );
  });

  test("resolves the binding to its id under <rootDir>/.ledge/state", async () => {
    const put = await run("key", "put", "k", "via binding", "--binding", "MY_KV", "--cwd", project);
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /namespace 0f2ac74b498b48028cb68387c421e279/);
    const store = new KvStore(kvDbPath(join(project, ".ledge", "state"), "0f2ac74b498b48028cb68387c421e279"));
    assert.equal(new TextDecoder().decode(store.get("k")!.value), "via binding");
    store.close();
    const byId = await run("key", "get", "k", "--text", "--namespace-id", "0f2ac74b498b48028cb68387c421e279", "--cwd", project);
    assert.equal(byId.stdout, "via binding\n", "--binding and --namespace-id reach the same data");
  });

  test("a binding without an id uses the binding name, as wrangler dev does", async () => {
    assert.equal((await run("key", "put", "k", "v", "--binding", "NO_ID", "--cwd", project)).code, 0);
    const store = new KvStore(kvDbPath(join(project, ".ledge", "state"), "NO_ID"));
    assert.ok(store.get("k"));
    store.close();
  });

  test("--config names the project from anywhere", async () => {
    const res = await run("key", "get", "k", "--text", "--binding", "MY_KV", "--config", join(project, "wrangler.toml"), "--cwd", dir);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, "via binding\n");
  });

  test("an unknown binding lists the known ones", async () => {
    const res = await run("key", "list", "--binding", "NOPE", "--cwd", project);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /No KV namespace with binding "NOPE" in .*wrangler\.toml\. Known bindings: MY_KV, NO_ID\./);
  });

  test("a folder without a config is a clear error", async () => {
    const empty = join(dir, "empty-project");
    mkdirSync(empty);
    const res = await run("key", "list", "--binding", "MY_KV", "--cwd", empty);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^error: No config file found/);
  });
});
