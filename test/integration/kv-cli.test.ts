/**
 * `ledge kv key put|get|list|delete` and `ledge kv bulk put|delete` through the real binary, against
 * the same state folder as a running `ledge serve`: what the CLI writes, the Worker reads at once,
 * and the other way round. The node uses its default state folder (`<project>/.ledge/state`), which
 * is also the CLI's default, so no flag is needed for the two to meet.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, REPO, removeDir, runLedge, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";
import { KV_WORKER, kvOk, kvToml, type ListPage } from "./kv-helpers.js";

let dir: string;
let ledge: RunningLedge;
const url = () => ledge.url;

before(async () => {
  dir = writeProject({ "wrangler.toml": kvToml("kv-cli", [["KV", "kv-cli-ns"], ["OTHER", "kv-cli-other"]]), "src/index.js": KV_WORKER }, "ledge-kv-cli-");
  ledge = await startLedge(dir, { args: ["--no-access-log"] });
});

after(async () => {
  await ledge?.kill();
  removeDir(dir);
});

/** `ledge kv ...` run in the project folder. */
const kv = (...args: string[]) => runLedge(["kv", ...args], { cwd: dir });

/** Runs `ledge kv ...` and returns stdout as bytes, for values that are not UTF-8. */
function kvBytes(...args: string[]): Promise<{ code: number; stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, "kv", ...args], { cwd: dir, encoding: "buffer", timeout: 15_000 }, (err, stdout) => {
      if (err && typeof err.code !== "number") return reject(err);
      resolve({ code: typeof err?.code === "number" ? err.code : 0, stdout });
    });
  });
}

function assertUserError(r: { code: number | null; stderr: string }, message: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "a user mistake is reported without a stack");
}

describe("ledge kv key", () => {
  test("put writes a value with metadata and a TTL that the Worker reads", async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await kv("key", "put", "greeting", "héllo ✓", "--binding", "KV", "--metadata", '{"by":"cli"}', "--ttl", "600");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Wrote key "greeting" \(10 bytes\) to KV namespace kv-cli-ns\./);
    assert.deepEqual(await kvOk(url(), { method: "getWithMetadata", key: "greeting" }), { value: "héllo ✓", metadata: { by: "cli" }, cacheStatus: null });
    const page = (await kvOk(url(), { method: "list", options: { prefix: "greeting" } })) as ListPage;
    const expiration = page.keys[0]!.expiration!;
    assert.ok(expiration >= before + 600 && expiration <= Math.floor(Date.now() / 1000) + 600, `expiration ${expiration}`);
  });

  test("put --path stores a file's bytes; --expiration sets an absolute expiry", async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    writeFileSync(join(dir, "blob.bin"), bytes);
    const at = Math.floor(Date.now() / 1000) + 7200;
    const r = await kv("key", "put", "blob", "--path", "blob.bin", "--binding", "KV", "--expiration", String(at));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await kvOk(url(), { method: "get", key: "blob", options: "arrayBuffer" }), { $type: "ArrayBuffer", bytes: [...bytes] });
    const page = (await kvOk(url(), { method: "list", options: { prefix: "blob" } })) as ListPage;
    assert.deepEqual(page.keys, [{ name: "blob", expiration: at }]);
  });

  test("get prints exactly the bytes the Worker wrote, or text and a newline with --text", async () => {
    await kvOk(url(), { method: "put", key: "from-worker", value: { bytes: [0xff, 0x00, 0x41, 0x0a], as: "Uint8Array" } });
    const raw = await kvBytes("key", "get", "from-worker", "--binding", "KV");
    assert.equal(raw.code, 0);
    assert.deepEqual([...raw.stdout], [0xff, 0x00, 0x41, 0x0a]);
    await kvOk(url(), { method: "put", key: "text-key", value: { text: "über" } });
    const text = await kv("key", "get", "text-key", "--binding", "KV", "--text");
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, "über\n");
  });

  test("get of a missing key exits 1 with 'Value not found'", async () => {
    const r = await kv("key", "get", "nope", "--binding", "KV");
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "Value not found\n");
  });

  test("list prints every key with its expiration and metadata, filtered by --prefix", async () => {
    await kvOk(url(), { method: "put", key: "list/b", value: { text: "2" }, options: { metadata: { n: 2 } } });
    await kvOk(url(), { method: "put", key: "list/a", value: { text: "1" } });
    await kvOk(url(), { method: "put", key: "listless", value: { text: "x" } });
    const r = await kv("key", "list", "--binding", "KV", "--prefix", "list/");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [{ name: "list/a" }, { name: "list/b", metadata: { n: 2 } }]);
  });

  test("delete removes a key the Worker wrote; deleting a missing key succeeds", async () => {
    await kvOk(url(), { method: "put", key: "doomed", value: { text: "x" } });
    const r = await kv("key", "delete", "doomed", "--binding", "KV");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Deleted key "doomed"/);
    assert.equal(await kvOk(url(), { method: "get", key: "doomed" }), null);
    assert.equal((await kv("key", "delete", "doomed", "--binding", "KV")).code, 0);
  });

  test("--binding picks the namespace: OTHER is a different one", async () => {
    assert.equal((await kv("key", "put", "where", "other", "--binding", "OTHER")).code, 0);
    assert.equal(await kvOk(url(), { method: "get", key: "where", binding: "OTHER" }), "other");
    assert.equal(await kvOk(url(), { method: "get", key: "where", binding: "KV" }), null);
  });

  test("--namespace-id, --persist-to and --cwd reach the same data", async () => {
    const byId = await kv("key", "get", "greeting", "--namespace-id", "kv-cli-ns", "--text");
    assert.equal(byId.stdout, "héllo ✓\n", byId.stderr);
    const explicit = await kv("key", "put", "explicit", "yes", "--namespace-id", "kv-cli-ns", "--persist-to", ".ledge/state");
    assert.equal(explicit.code, 0, explicit.stderr);
    assert.equal(await kvOk(url(), { method: "get", key: "explicit" }), "yes");
    const elsewhere = await runLedge(["kv", "key", "get", "explicit", "--binding", "KV", "--cwd", dir, "--text"], { cwd: REPO });
    assert.equal(elsewhere.stdout, "yes\n", elsewhere.stderr);
  });

  test("mistakes and limit errors are one line without a stack, exit 1, and write nothing", async () => {
    assertUserError(await kv("key", "put", "k", "v", "--binding", "NOPE"), /No KV namespace with binding "NOPE" in .*wrangler\.toml\. Known bindings: KV, OTHER\./);
    assertUserError(await kv("key", "put", "k", "v"), /Give exactly one of --binding <NAME> or --namespace-id <ID>\./);
    assertUserError(await kv("key", "put", "short-ttl", "v", "--binding", "KV", "--ttl", "30"), /Invalid expiration_ttl of 30\. Expiration TTL must be at least 60\./);
    assertUserError(await kv("key", "put", "k".repeat(513), "v", "--binding", "KV"), /414 UTF-8 encoded length of 513 exceeds key length limit of 512\./);
    assertUserError(await kv("key", "put", "bad-meta", "v", "--binding", "KV", "--metadata", "{oops"), /--metadata is not valid JSON/);
    assertUserError(await kv("key", "frobnicate"), /unknown command "ledge kv key frobnicate"/);
    for (const key of ["short-ttl", "bad-meta"]) assert.equal(await kvOk(url(), { method: "get", key }), null, key);
  });
});

describe("ledge kv bulk", () => {
  test("put writes every pair of a JSON file, base64 and options included", async () => {
    const items = [
      { key: "bulk/text", value: "plain ✓", metadata: { kind: "text" } },
      { key: "bulk/bin", value: Buffer.from([0, 1, 254, 255]).toString("base64"), base64: true },
      { key: "bulk/ttl", value: "temporary", expiration_ttl: 3600 },
    ];
    writeFileSync(join(dir, "bulk.json"), JSON.stringify(items));
    const r = await kv("bulk", "put", "bulk.json", "--binding", "KV");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Success! Wrote 3 key-value pairs to KV namespace kv-cli-ns\./);
    assert.deepEqual(await kvOk(url(), { method: "getWithMetadata", key: "bulk/text" }), { value: "plain ✓", metadata: { kind: "text" }, cacheStatus: null });
    assert.deepEqual(await kvOk(url(), { method: "get", key: "bulk/bin", options: "arrayBuffer" }), { $type: "ArrayBuffer", bytes: [0, 1, 254, 255] });
    const page = (await kvOk(url(), { method: "list", options: { prefix: "bulk/ttl" } })) as ListPage;
    assert.ok(page.keys[0]!.expiration! > Date.now() / 1000 + 3500);
  });

  test("1,500 pairs land in one go and the Worker pages through them", async () => {
    const items = Array.from({ length: 1500 }, (_, i) => ({ key: `many/${String(i).padStart(4, "0")}`, value: String(i) }));
    writeFileSync(join(dir, "many.json"), JSON.stringify(items));
    const r = await kv("bulk", "put", "many.json", "--binding", "KV");
    assert.equal(r.code, 0, r.stderr);
    const first = (await kvOk(url(), { method: "list", options: { prefix: "many/" } })) as ListPage;
    assert.equal(first.keys.length, 1000);
    const second = (await kvOk(url(), { method: "list", options: { prefix: "many/", cursor: first.cursor } })) as ListPage;
    assert.equal(second.keys.length, 500);
    assert.equal(second.list_complete, true);
    assert.equal(second.keys.at(-1)!.name, "many/1499");
    assert.equal(await kvOk(url(), { method: "get", key: "many/0777" }), "777");
  });

  test("put with an invalid item names it and writes nothing", async () => {
    const items = [
      { key: "atomic/ok", value: "fine" },
      { key: "atomic/short", value: "x", expiration_ttl: 30 },
      { key: "atomic/novalue" },
    ];
    writeFileSync(join(dir, "bad.json"), JSON.stringify(items));
    const r = await kv("bulk", "put", "bad.json", "--binding", "KV");
    assertUserError(r, /item 1: KV PUT failed: 400 Invalid expiration_ttl of 30\. Expiration TTL must be at least 60\./);
    assert.match(r.stderr, /item 2: "value" must be a string/);
    assert.equal(await kvOk(url(), { method: "get", key: "atomic/ok" }), null);
  });

  test("delete removes the listed keys", async () => {
    writeFileSync(join(dir, "delete.json"), JSON.stringify(["bulk/text", "bulk/bin", "never-existed"]));
    const r = await kv("bulk", "delete", "delete.json", "--binding", "KV");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await kvOk(url(), { method: "get", key: ["bulk/text", "bulk/bin", "bulk/ttl"] }), {
      $type: "Map",
      entries: [
        ["bulk/text", null],
        ["bulk/bin", null],
        ["bulk/ttl", "temporary"],
      ],
    });
  });
});

test("data written by the CLI while the node is stopped is served after it starts", async () => {
  await ledge.stop();
  const r = await kv("key", "put", "offline", "written while stopped", "--binding", "KV");
  assert.equal(r.code, 0, r.stderr);
  ledge = await startLedge(dir, { args: ["--no-access-log"] });
  assert.equal(await kvOk(url(), { method: "get", key: "offline" }), "written while stopped");
  assert.equal(await kvOk(url(), { method: "get", key: "greeting" }), "héllo ✓");
});
