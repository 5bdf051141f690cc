/**
 * Apps that bind the same KV namespace id share its data. `ledge serve` runs one app, so two CLI
 * processes serve two different apps on the same `--persist-to`: each binds the shared id under its
 * own binding name, and one of them also binds an id of its own that the other must not see. Both
 * nodes are started with `--trust app-a,app-b`: without it, the second app to bind the id is refused
 * (app-boundaries.test.ts).
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";
import { KV_WORKER, kvFill, kvOk, kvToml, type ListPage } from "./kv-helpers.js";

const SHARED = "0f2ac74b9b2b4c0a8e3c6d1e5f7a9b11";
let stateDir: string;
const dirs: string[] = [];
let a: RunningLedge;
let b: RunningLedge;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "ledge-kv-shared-state-"));
  const appA = writeProject({ "wrangler.toml": kvToml("app-a", [["SESSIONS", SHARED], ["PRIVATE", "app-a-only"]]), "src/index.js": KV_WORKER }, "ledge-kv-a-");
  const appB = writeProject({ "wrangler.toml": kvToml("app-b", [["SHARED_DATA", SHARED], ["OWN", "app-b-only"]]), "src/index.js": KV_WORKER }, "ledge-kv-b-");
  dirs.push(appA, appB);
  // Two isolates each, so reads and writes also cross connections inside one app.
  [a, b] = await Promise.all([
    startLedge(appA, { args: ["--trust", "app-a,app-b", "--persist-to", stateDir, "--no-access-log", "--isolates", "2"] }),
    startLedge(appB, { args: ["--trust", "app-a,app-b", "--persist-to", stateDir, "--no-access-log", "--isolates", "2"] }),
  ]);
});

after(async () => {
  await Promise.all([a?.kill(), b?.kill()]);
  for (const d of dirs) removeDir(d);
  removeDir(stateDir);
});

test("a write by one app is read at once by the other, under another binding name", async () => {
  await kvOk(a.url, { method: "put", key: "user:1", binding: "SESSIONS", value: { text: "ada" }, options: { metadata: { from: "a" } } });
  assert.deepEqual(await kvOk(b.url, { method: "getWithMetadata", key: "user:1", binding: "SHARED_DATA" }), {
    value: "ada",
    metadata: { from: "a" },
    cacheStatus: null,
  });
  await kvOk(b.url, { method: "put", key: "user:2", binding: "SHARED_DATA", value: { bytes: [1, 2, 3], as: "Uint8Array" } });
  assert.deepEqual(await kvOk(a.url, { method: "get", key: "user:2", binding: "SESSIONS", options: "arrayBuffer" }), {
    $type: "ArrayBuffer",
    bytes: [1, 2, 3],
  });
  await kvOk(a.url, { method: "delete", key: "user:1", binding: "SESSIONS" });
  assert.equal(await kvOk(b.url, { method: "get", key: "user:1", binding: "SHARED_DATA" }), null);
});

test("namespaces with other ids stay separate", async () => {
  await kvOk(a.url, { method: "put", key: "secret", binding: "PRIVATE", value: { text: "a's" } });
  await kvOk(b.url, { method: "put", key: "secret", binding: "OWN", value: { text: "b's" } });
  assert.equal(await kvOk(a.url, { method: "get", key: "secret", binding: "PRIVATE" }), "a's");
  assert.equal(await kvOk(b.url, { method: "get", key: "secret", binding: "OWN" }), "b's");
  assert.equal(await kvOk(a.url, { method: "get", key: "secret", binding: "SESSIONS" }), null);
  assert.equal(await kvOk(b.url, { method: "get", key: "secret", binding: "SHARED_DATA" }), null);
});

test("both apps writing at once end with every key, listed alike by both", async () => {
  await Promise.all([kvFill(a.url, "race/a-", 400, "SESSIONS"), kvFill(b.url, "race/b-", 400, "SHARED_DATA")]);
  const listAll = async (url: string, binding: string) => {
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await kvOk(url, { method: "list", binding, options: { prefix: "race/", cursor } })) as ListPage;
      keys.push(...page.keys.map((k) => k.name));
      cursor = page.cursor;
    } while (cursor !== undefined);
    return keys;
  };
  const fromA = await listAll(a.url, "SESSIONS");
  assert.equal(fromA.length, 800);
  assert.deepEqual(await listAll(b.url, "SHARED_DATA"), fromA);
});

test("every request reads the previous request's write, whichever isolate serves it", async () => {
  for (let i = 0; i < 40; i++) {
    const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a];
    const [wb, rb] = i % 2 === 0 ? ["SESSIONS", "SHARED_DATA"] : ["SHARED_DATA", "SESSIONS"];
    await kvOk(writer.url, { method: "put", key: "counter", binding: wb, value: { text: String(i) } });
    assert.equal(await kvOk(reader.url, { method: "get", key: "counter", binding: rb }), String(i));
    assert.equal(await kvOk(writer.url, { method: "get", key: "counter", binding: wb }), String(i));
  }
});
