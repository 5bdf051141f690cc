/**
 * The Cache API (`caches.default`, `caches.open(name)`) as a Worker uses it through `ledge serve`:
 * put/match/delete, isolation between named caches, expiry after `max-age=1`, what is never stored
 * (`Set-Cookie`, `no-store`, `private`), what `put` refuses (non-GET, `Vary: *`), 304 and 206
 * answered from a stored entry for the client's own conditional and range requests, and entries
 * surviving a restart of the CLI.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eventually, removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

/**
 * `POST /cache` runs one cache call described as JSON and answers `{ result }` or `{ error }`.
 * `GET /through/...` is the usual Worker pattern: answer from `caches.default` with the incoming
 * request as the key, otherwise make a response (with a fresh id in its body), store and return it.
 */
const WORKER = String.raw`
function keyOf(spec) {
  return typeof spec === "string" ? spec : new Request(spec.url, { method: spec.method ?? "GET", headers: spec.headers ?? {} });
}

async function describe(res) {
  if (res === undefined) return null;
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}

async function run(op) {
  const cache = op.cache === undefined ? caches.default : await caches.open(op.cache);
  switch (op.action) {
    case "put": {
      const r = op.response;
      const res = new Response(r.body ?? null, { status: r.status ?? 200, headers: r.headers ?? {} });
      const out = await cache.put(keyOf(op.key), res);
      return { returned: out === undefined ? "undefined" : String(out), bodyUsed: res.bodyUsed };
    }
    case "match":
      return describe(await cache.match(keyOf(op.key), op.options));
    case "put-then-match": {
      // In one request, so the match runs within milliseconds of the put.
      const r = op.response;
      await cache.put(keyOf(op.key), new Response(r.body ?? null, { status: r.status ?? 200, headers: r.headers ?? {} }));
      return describe(await cache.match(keyOf(op.key)));
    }
    case "delete":
      return cache.delete(keyOf(op.key), op.options);
  }
  throw new Error("unknown action " + op.action);
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/cache") {
      const op = await request.json();
      try {
        return Response.json({ result: await run(op) });
      } catch (err) {
        return Response.json({ error: { name: err.name, message: err.message, typeError: err instanceof TypeError } });
      }
    }
    if (url.pathname.startsWith("/through/")) {
      const hit = await caches.default.match(request);
      if (hit) return hit;
      const body = "id=" + crypto.randomUUID() + ";" + "0123456789".repeat(10);
      const res = new Response(body, {
        headers: {
          "content-type": "text/plain",
          "cache-control": url.searchParams.get("cc") ?? "max-age=3600",
          etag: '"v1"',
          "last-modified": "Tue, 01 Sep 2026 10:00:00 GMT",
        },
      });
      await caches.default.put(request, res.clone());
      return res;
    }
    return new Response("not found", { status: 404 });
  },
};
`;

const TOML = `name = "cache-api"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\n`;

let dir: string;
let stateDir: string;
let ledge: RunningLedge;

before(async () => {
  dir = writeProject({ "wrangler.toml": TOML, "src/index.js": WORKER }, "ledge-cache-");
  stateDir = mkdtempSync(join(tmpdir(), "ledge-cache-state-"));
  ledge = await startLedge(dir, { args: ["--persist-to", stateDir, "--no-access-log"] });
});

after(async () => {
  await ledge?.kill();
  removeDir(dir);
  removeDir(stateDir);
});

type Key = string | { url: string; method?: string; headers?: Record<string, string> };
interface Described {
  status: number;
  headers: Record<string, string>;
  body: string;
}
type Op =
  | { action: "put" | "put-then-match"; cache?: string; key: Key; response: { status?: number; headers?: Record<string, string>; body?: string } }
  | { action: "match" | "delete"; cache?: string; key: Key; options?: { ignoreMethod?: boolean } };

async function cacheCall(op: Op): Promise<{ result?: unknown; error?: { name: string; message: string; typeError: boolean } }> {
  const res = await fetch(`${ledge.url}/cache`, { method: "POST", body: JSON.stringify(op) });
  assert.equal(res.status, 200);
  return (await res.json()) as { result?: unknown; error?: { name: string; message: string; typeError: boolean } };
}

async function ok(op: Op): Promise<unknown> {
  const r = await cacheCall(op);
  if (r.error) throw new Error(`cache.${op.action} threw ${r.error.name}: ${r.error.message}`);
  return r.result;
}

const put = (key: Key, headers: Record<string, string>, body = "cached body", cache?: string) =>
  ok({ action: "put", key, cache, response: { headers, body } });
const match = (key: Key, cache?: string, options?: { ignoreMethod?: boolean }) =>
  ok({ action: "match", key, cache, options }) as Promise<Described | null>;
const del = (key: Key, cache?: string, options?: { ignoreMethod?: boolean }) => ok({ action: "delete", key, cache, options });

describe("put, match and delete", () => {
  test("a stored response comes back with its headers and CF-Cache-Status: HIT; delete removes it", async () => {
    const key = "https://example.com/basic";
    assert.deepEqual(await put(key, { "cache-control": "max-age=60", "content-type": "text/x-test", "x-custom": "kept" }, "hello"), {
      returned: "undefined",
      bodyUsed: true,
    });
    const hit = await match(key);
    assert.ok(hit);
    assert.equal(hit.status, 200);
    assert.equal(hit.body, "hello");
    assert.equal(hit.headers["content-type"], "text/x-test");
    assert.equal(hit.headers["x-custom"], "kept");
    assert.equal(hit.headers["cf-cache-status"], "HIT");
    assert.match(hit.headers["age"] ?? "", /^\d+$/);
    assert.equal(await del(key), true);
    assert.equal(await match(key), null);
    assert.equal(await del(key), false);
  });

  test("a Request key and a URL string key name the same entry; the query string is part of it", async () => {
    await put({ url: "https://example.com/req?x=1", headers: { accept: "text/plain" } }, { "cache-control": "max-age=60" }, "by request");
    assert.equal((await match("https://example.com/req?x=1"))?.body, "by request");
    assert.equal(await match("https://example.com/req?x=2"), null);
    assert.equal(await match("https://example.com/req"), null);
  });

  test("a later put replaces the entry", async () => {
    await put("https://example.com/replace", { "cache-control": "max-age=60" }, "first");
    await put("https://example.com/replace", { "cache-control": "max-age=60" }, "second");
    assert.equal((await match("https://example.com/replace"))?.body, "second");
  });

  test("caches.open(name) gives separate caches, none of them caches.default", async () => {
    const key = "https://example.com/isolated";
    await put(key, { "cache-control": "max-age=60" }, "alpha's", "alpha");
    assert.equal((await match(key, "alpha"))?.body, "alpha's", "a second caches.open('alpha') sees it");
    assert.equal(await match(key, "beta"), null);
    assert.equal(await match(key), null);
    await put(key, { "cache-control": "max-age=60" }, "default's");
    assert.equal(await match(key, "default"), null, 'caches.open("default") is not caches.default');
    assert.equal((await match(key))?.body, "default's");
    assert.equal(await del(key, "beta"), false);
    assert.equal(await del(key, "alpha"), true);
    assert.equal((await match(key))?.body, "default's", "deleting from alpha leaves default alone");
  });
});

describe("freshness", () => {
  test("an entry with max-age=1 is served, then gone once a second has passed", async () => {
    const key = "https://example.com/short-lived";
    const putAt = Date.now();
    const first = (await ok({ action: "put-then-match", key, response: { headers: { "cache-control": "max-age=1" }, body: "brief" } })) as Described | null;
    assert.equal(first?.body, "brief");
    await eventually(async () => (await match(key)) === null, "the max-age=1 entry to expire", 5_000, 100);
    assert.ok(Date.now() - putAt >= 1000, "it expired no earlier than a second after the put");
  });

  test("s-maxage wins over max-age, and Expires in the past is never stored", async () => {
    const key = "https://example.com/s-maxage";
    await put(key, { "cache-control": "max-age=3600, s-maxage=1" }, "shared");
    await eventually(async () => (await match(key)) === null, "the s-maxage=1 entry to expire", 5_000, 100);
    await put("https://example.com/expired", { expires: "Thu, 01 Jan 2015 00:00:00 GMT" });
    assert.equal(await match("https://example.com/expired"), null);
    await put("https://example.com/expires-later", { expires: new Date(Date.now() + 3_600_000).toUTCString() }, "later");
    assert.equal((await match("https://example.com/expires-later"))?.body, "later");
  });
});

describe("what is not stored", () => {
  const notStored: [string, Record<string, string>][] = [
    ["Set-Cookie", { "cache-control": "max-age=60", "set-cookie": "session=abc" }],
    ["no-store", { "cache-control": "no-store, max-age=60" }],
    ["private", { "cache-control": "private, max-age=60" }],
    ["no-cache", { "cache-control": "no-cache, max-age=60" }],
    ["max-age=0", { "cache-control": "max-age=0" }],
  ];
  for (const [what, headers] of notStored) {
    test(`a response with ${what}`, async () => {
      const key = `https://example.com/not-stored/${encodeURIComponent(what)}`;
      assert.deepEqual(await put(key, headers), { returned: "undefined", bodyUsed: true });
      assert.equal(await match(key), null);
    });
  }

  test("private=Set-Cookie stores the response without its cookie", async () => {
    const key = "https://example.com/cookie-stripped";
    await put(key, { "cache-control": "private=Set-Cookie, max-age=60", "set-cookie": "session=abc" }, "public part");
    const hit = await match(key);
    assert.equal(hit?.body, "public part");
    assert.equal(hit?.headers["set-cookie"], undefined);
  });
});

describe("what put refuses with a TypeError", () => {
  test("a response to a POST request; match and delete ignore POST unless ignoreMethod", async () => {
    const post = { url: "https://example.com/posted", method: "POST" };
    const r = await cacheCall({ action: "put", key: post, response: { headers: { "cache-control": "max-age=60" }, body: "x" } });
    assert.equal(r.error?.typeError, true);
    assert.match(r.error?.message ?? "", /Cannot cache response to non-GET request/);
    assert.equal(await match("https://example.com/posted"), null, "nothing was stored");

    await put("https://example.com/posted", { "cache-control": "max-age=60" }, "got");
    assert.equal(await match(post), null);
    assert.equal((await match(post, undefined, { ignoreMethod: true }))?.body, "got");
    assert.equal(await del(post), false);
    assert.equal(await del(post, undefined, { ignoreMethod: true }), true);
  });

  test("a response with Vary: *", async () => {
    const r = await cacheCall({ action: "put", key: "https://example.com/vary", response: { headers: { vary: "*", "cache-control": "max-age=60" } } });
    assert.equal(r.error?.typeError, true);
    assert.match(r.error?.message ?? "", /Vary: \*/);
  });

  test("a 206 response", async () => {
    const r = await cacheCall({ action: "put", key: "https://example.com/partial", response: { status: 206, headers: { "cache-control": "max-age=60" } } });
    assert.equal(r.error?.typeError, true);
  });
});

describe("conditional and range requests answered from the cache", () => {
  async function get(path: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${ledge.url}${path}`, { headers });
    return { status: res.status, headers: res.headers, body: await res.text() };
  }

  test("If-None-Match with the stored ETag gets a 304 without a body", async () => {
    const miss = await get("/through/etag");
    assert.equal(miss.status, 200);
    assert.equal(miss.headers.get("cf-cache-status"), null, "the first answer was made, not matched");
    const notModified = await get("/through/etag", { "if-none-match": '"v1"' });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body, "");
    assert.equal(notModified.headers.get("etag"), '"v1"');
    const other = await get("/through/etag", { "if-none-match": '"v0", "v2"' });
    assert.equal(other.status, 200);
    assert.equal(other.body, miss.body, "served from the cache");
    assert.equal(other.headers.get("cf-cache-status"), "HIT");
  });

  test("If-Modified-Since at or after Last-Modified gets a 304", async () => {
    const first = await get("/through/modified");
    assert.equal(first.status, 200);
    assert.equal((await get("/through/modified", { "if-modified-since": "Tue, 01 Sep 2026 10:00:00 GMT" })).status, 304);
    const older = await get("/through/modified", { "if-modified-since": "Mon, 31 Aug 2026 10:00:00 GMT" });
    assert.equal(older.status, 200);
    assert.equal(older.body, first.body);
  });

  test("Range gets a 206 slice of the stored body; a range past the end gets a 416", async () => {
    const full = await get("/through/range");
    const size = Buffer.byteLength(full.body);
    const part = await get("/through/range", { range: "bytes=3-12" });
    assert.equal(part.status, 206);
    assert.equal(part.body, full.body.slice(3, 13));
    assert.equal(part.headers.get("content-range"), `bytes 3-12/${size}`);
    assert.equal(part.headers.get("content-length"), "10");
    const suffix = await get("/through/range", { range: "bytes=-5" });
    assert.equal(suffix.status, 206);
    assert.equal(suffix.body, full.body.slice(-5));
    const beyond = await get("/through/range", { range: `bytes=${size + 10}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get("content-range"), `bytes */${size}`);
  });

  test("a response the Worker marks no-store is made anew every time", async () => {
    const a = await get("/through/fresh?cc=no-store");
    const b = await get("/through/fresh?cc=no-store");
    assert.equal(a.status, 200);
    assert.notEqual(a.body, b.body);
  });
});

test("entries survive a restart of the CLI", async () => {
  await put("https://example.com/persist", { "cache-control": "max-age=3600", etag: '"p1"' }, "kept across restarts");
  await put("https://example.com/persist", { "cache-control": "max-age=3600" }, "named cache too", "named");
  await ledge.stop();
  ledge = await startLedge(dir, { args: ["--persist-to", stateDir, "--no-access-log"] });
  const hit = await match("https://example.com/persist");
  assert.equal(hit?.body, "kept across restarts");
  assert.equal(hit?.headers["etag"], '"p1"');
  assert.equal((await match("https://example.com/persist", "named"))?.body, "named cache too");
  assert.equal(await match("https://example.com/short-lived"), null, "expired entries stay expired");
});
