/**
 * `list()` through `ledge serve`: pages of at most 1,000 keys over more than 1,000 keys while other
 * keys are written and deleted between pages, prefixes, limits, and UTF-8 byte order of keys.
 *
 * Ledge's cursor is the last key returned, so a listing continues strictly after it: keys written
 * after the cursor's position show up in later pages, keys written before it do not, and no key is
 * ever returned twice. Cloudflare only promises that cursors keep working while keys change; the
 * exact rule is Ledge's and asserted here so a change to it is noticed.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";
import { KV_WORKER, kvFill, kvOk, kvToml, utf8Compare, type ListPage } from "./kv-helpers.js";

let dir: string;
let stateDir: string;
let ledge: RunningLedge;
const url = () => ledge.url;

before(async () => {
  dir = writeProject({ "wrangler.toml": kvToml("kv-list", [["KV", "kv-list-ns"]]), "src/index.js": KV_WORKER }, "ledge-kv-list-");
  stateDir = mkdtempSync(join(tmpdir(), "ledge-kv-list-state-"));
  ledge = await startLedge(dir, { args: ["--persist-to", stateDir, "--no-access-log"] });
});

after(async () => {
  await ledge?.kill();
  removeDir(dir);
  removeDir(stateDir);
});

const list = async (options: Record<string, unknown>) => (await kvOk(url(), { method: "list", options })) as ListPage;
const names = (page: ListPage) => page.keys.map((k) => k.name);
const put = (key: string) => kvOk(url(), { method: "put", key, value: { text: key } });
const del = (key: string) => kvOk(url(), { method: "delete", key });

function assertStrictlyAscending(keys: string[]): void {
  for (let i = 1; i < keys.length; i++) {
    assert.ok(utf8Compare(keys[i - 1]!, keys[i]!) < 0, `${JSON.stringify(keys[i - 1])} before ${JSON.stringify(keys[i])}`);
  }
}

test("2,500 keys in pages of 1,000 while keys are written and deleted between pages", async () => {
  await kvFill(url(), "page/", 2500); // page/00000 … page/02499
  // Neighbours just outside the prefix must never show up.
  await put("pagd/outside");
  await put("pagf/outside");

  const pages: ListPage[] = [];
  let page = await list({ prefix: "page/" });
  pages.push(page);
  assert.equal(page.keys.length, 1000);
  assert.equal(page.list_complete, false);
  assert.equal(typeof page.cursor, "string");
  assert.equal(page.keys.at(-1)!.name, "page/00999");

  // Between pages 1 and 2: behind the cursor (never listed), ahead of it (listed), a deletion
  // ahead of it (not listed) and one behind it (already listed).
  await put("page/00500-late");
  await put("page/01500-late");
  await del("page/01600");
  await del("page/00100");
  page = await list({ prefix: "page/", cursor: page.cursor });
  pages.push(page);
  assert.equal(page.keys.length, 1000);
  assert.equal(page.list_complete, false);

  // Between pages 2 and 3: 300 keys after everything listed so far.
  await kvFill(url(), "page/9", 300);
  while (!page.list_complete) {
    page = await list({ prefix: "page/", cursor: page.cursor });
    pages.push(page);
    assert.ok(page.keys.length <= 1000);
  }
  assert.equal(page.cursor, undefined, "the last page has no cursor");

  const all = pages.flatMap(names);
  assertStrictlyAscending(all);
  assert.equal(new Set(all).size, all.length, "no key twice");
  const expected = new Set<string>();
  for (let i = 0; i < 2500; i++) expected.add(`page/${String(i).padStart(5, "0")}`);
  expected.delete("page/01600");
  expected.add("page/01500-late");
  for (let i = 0; i < 300; i++) expected.add(`page/9${String(i).padStart(5, "0")}`);
  assert.deepEqual(new Set(all), expected);
  assert.equal(pages.length, 3);
  assert.deepEqual(pages.map((p) => p.keys.length), [1000, 1000, 800]);
});

test("a smaller limit pages through the same keys, and a listing without prefix sees every key", async () => {
  const byPrefix: string[] = [];
  let cursor: string | undefined;
  let calls = 0;
  do {
    const page = await list({ prefix: "page/", limit: 333, cursor });
    assert.ok(page.keys.length <= 333);
    byPrefix.push(...names(page));
    cursor = page.cursor;
    calls++;
  } while (cursor !== undefined);
  assert.equal(byPrefix.length, 2800);
  assert.equal(calls, Math.ceil(2800 / 333));

  const everything: string[] = [];
  cursor = undefined;
  do {
    const page = await list({ cursor });
    everything.push(...names(page));
    cursor = page.cursor;
  } while (cursor !== undefined);
  assertStrictlyAscending(everything);
  assert.deepEqual(everything.filter((k) => k.startsWith("page/")), byPrefix);
  assert.ok(everything.includes("pagd/outside") && everything.includes("pagf/outside"));
});

test("a prefix with no keys gives an empty, complete page", async () => {
  assert.deepEqual(await list({ prefix: "nothing-here/" }), { keys: [], list_complete: true, cacheStatus: null });
});

test("keys are listed in UTF-8 byte order, also one key per page", async () => {
  // U+FF61 sorts before U+1F600 by UTF-8 bytes (and code points), after it by UTF-16 code units.
  const keys = ["order/a", "order/Z", "order/é", "order/\uFF61", "order/😀", "order/\u007F", "order/z", "order/a/b"];
  for (const k of keys) await put(k);
  const expected = [...keys].sort(utf8Compare);
  assert.notDeepEqual([...keys].sort(), expected, "the keys tell UTF-16 order from UTF-8 order");
  assert.deepEqual(names(await list({ prefix: "order/" })), expected);

  const oneByOne: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({ prefix: "order/", limit: 1, cursor });
    oneByOne.push(...names(page));
    cursor = page.cursor;
  } while (cursor !== undefined);
  assert.deepEqual(oneByOne, expected);
  assert.deepEqual(names(await list({ prefix: "order/é" })), ["order/é"]);
});
