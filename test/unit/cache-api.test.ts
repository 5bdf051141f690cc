// The Cache API as user code sees it: put/match/delete on caches.default and named caches, over a
// real SQLite file in a temporary folder, with an injected clock.
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheDbPath, closeCacheStorage, createCacheStorage, type CacheStorage } from "../../src/cache/index.js";

const URL_A = "https://example.com/a";
let dir: string;
let now: number;
let caches: CacheStorage;

function response(body: string, headers: Record<string, string> = { "cache-control": "max-age=60" }, status = 200) {
  return new Response(body, { status, headers });
}

async function stored(url = URL_A): Promise<string | undefined> {
  const hit = await caches.default.match(url);
  return hit === undefined ? undefined : hit.text();
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "ledge-cache-api-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  if (caches !== undefined) closeCacheStorage(caches);
  now = Date.UTC(2026, 0, 1);
  caches = createCacheStorage({ dbPath: join(mkdtempSync(join(dir, "t-")), "cache.sqlite"), clock: () => now });
});

describe("cacheDbPath", () => {
  it("puts the database under <persistDir>/cache", () => {
    assert.equal(cacheDbPath("/var/lib/ledge"), "/var/lib/ledge/cache/cache.sqlite");
  });
});

describe("put", () => {
  it("stores a response that match returns with CF-Cache-Status and Age", async () => {
    const result = await caches.default.put(URL_A, response("hello", { "cache-control": "max-age=60", "x-a": "1" }));
    assert.equal(result, undefined);
    now += 5_500;
    const hit = await caches.default.match(URL_A);
    assert.ok(hit);
    assert.equal(hit.status, 200);
    assert.equal(await hit.text(), "hello");
    assert.equal(hit.headers.get("cf-cache-status"), "HIT");
    assert.equal(hit.headers.get("age"), "5");
    assert.equal(hit.headers.get("x-a"), "1");
    assert.equal(hit.headers.get("content-length"), "5");
  });

  it("accepts a Request or a URL as the key, equal to the same URL string", async () => {
    await caches.default.put(new Request(URL_A), response("r"));
    assert.equal(await stored(URL_A), "r");
    await caches.default.put(new URL("https://example.com/b"), response("u"));
    assert.equal(await stored("https://example.com/b"), "u");
  });

  it("replaces an existing entry", async () => {
    await caches.default.put(URL_A, response("one"));
    await caches.default.put(URL_A, response("two"));
    assert.equal(await stored(), "two");
  });

  it("throws TypeError for a relative URL, a non-GET request, 206, Vary: * and error responses", async () => {
    await assert.rejects(caches.default.put("/relative", response("x")), TypeError);
    await assert.rejects(caches.default.put(new Request(URL_A, { method: "POST" }), response("x")), TypeError);
    await assert.rejects(caches.default.put(URL_A, response("x", {}, 206)), /206/);
    await assert.rejects(caches.default.put(URL_A, response("x", { vary: "Accept, *" })), /Vary/);
    await assert.rejects(caches.default.put(URL_A, Response.error()), /error response/);
    assert.equal(await stored(), undefined);
  });

  it("throws TypeError for a WebSocket upgrade response", async () => {
    // Node's Response cannot carry status 101; the runtime's Workers Response exposes `webSocket`.
    const upgrade = Object.assign(response("x"), { webSocket: {} });
    await assert.rejects(caches.default.put(URL_A, upgrade), /WebSocket/);
  });

  it("throws TypeError for a response whose body was already read", async () => {
    const used = response("x");
    await used.text();
    await assert.rejects(caches.default.put(URL_A, used), /body has not been used/);
  });

  it("silently ignores a 304 and leaves its body unread", async () => {
    const notModified = new Response(null, { status: 304, headers: { "cache-control": "max-age=60" } });
    assert.equal(await caches.default.put(URL_A, notModified), undefined);
    assert.equal(await stored(), undefined);
  });

  it("does not store no-store, private, no-cache or Set-Cookie responses, but reads their bodies", async () => {
    for (const headers of <Record<string, string>[]>[
      { "cache-control": "no-store" },
      { "cache-control": "private, max-age=60" },
      { "cache-control": "no-cache" },
      { "cache-control": "max-age=60", "set-cookie": "a=1" },
    ]) {
      const res = response("x", headers);
      await caches.default.put(URL_A, res);
      assert.equal(res.bodyUsed, true, JSON.stringify(headers));
      assert.equal(await stored(), undefined, JSON.stringify(headers));
    }
  });

  it("stores a Set-Cookie response under private=Set-Cookie, without the cookie", async () => {
    await caches.default.put(URL_A, response("c", { "cache-control": "max-age=60, private=Set-Cookie", "set-cookie": "s=1" }));
    const hit = await caches.default.match(URL_A);
    assert.ok(hit);
    assert.equal(hit.headers.get("set-cookie"), null);
    assert.equal(await hit.text(), "c");
  });

  it("keeps Cache-Tag and other response headers on the stored entry", async () => {
    await caches.default.put(URL_A, response("t", { "cache-control": "max-age=60", "cache-tag": "a,b" }));
    assert.equal((await caches.default.match(URL_A))?.headers.get("cache-tag"), "a,b");
  });

  it("ignores Vary other than *: the key is the URL alone", async () => {
    await caches.default.put(URL_A, response("v", { "cache-control": "max-age=60", vary: "Accept-Language" }));
    const hit = await caches.default.match(new Request(URL_A, { headers: { "accept-language": "fr" } }));
    assert.equal(await hit?.text(), "v");
  });

  it("stores a response with no cache headers for the Edge TTL default of its status", async () => {
    await caches.default.put(URL_A, new Response("d"));
    now += 7_199_000;
    assert.equal(await stored(), "d");
    now += 1_000;
    assert.equal(await stored(), undefined);
  });

  it("stores null-body statuses and returns them without a body", async () => {
    await caches.default.put(URL_A, new Response(null, { status: 204, headers: { "cache-control": "max-age=60" } }));
    const hit = await caches.default.match(URL_A);
    assert.equal(hit?.status, 204);
    assert.equal(hit?.body, null);
  });
});

describe("expiry", () => {
  it("max-age=1 expires after one second and the entry is removed", async () => {
    await caches.default.put(URL_A, response("m", { "cache-control": "max-age=1" }));
    now += 999;
    assert.equal(await stored(), "m");
    now += 1;
    assert.equal(await stored(), undefined);
    now -= 1; // A clock that steps back must not resurrect a removed entry.
    assert.equal(await stored(), undefined);
  });

  it("s-maxage overrides max-age", async () => {
    await caches.default.put(URL_A, response("s", { "cache-control": "max-age=1, s-maxage=10" }));
    now += 5_000;
    assert.equal(await stored(), "s");
    now += 5_000;
    assert.equal(await stored(), undefined);
  });

  it("Expires relative to Date", async () => {
    const date = now - 60_000;
    await caches.default.put(URL_A, response("e", {
      date: new Date(date).toUTCString(),
      expires: new Date(date + 3_000).toUTCString(),
    }));
    now += 2_000;
    assert.equal(await stored(), "e");
    now += 1_000;
    assert.equal(await stored(), undefined);
  });
});

describe("match and delete", () => {
  it("match returns undefined for non-GET unless ignoreMethod", async () => {
    await caches.default.put(URL_A, response("g"));
    const head = new Request(URL_A, { method: "HEAD" });
    assert.equal(await caches.default.match(head), undefined);
    assert.equal(await (await caches.default.match(head, { ignoreMethod: true }))?.text(), "g");
  });

  it("delete reports whether an entry was removed, honouring ignoreMethod", async () => {
    await caches.default.put(URL_A, response("d"));
    const post = new Request(URL_A, { method: "POST" });
    assert.equal(await caches.default.delete(post), false);
    assert.equal(await caches.default.delete(post, { ignoreMethod: true }), true);
    assert.equal(await caches.default.delete(URL_A), false);
    assert.equal(await stored(), undefined);
  });

  it("delete of an expired entry returns false", async () => {
    await caches.default.put(URL_A, response("x", { "cache-control": "max-age=1" }));
    now += 2_000;
    assert.equal(await caches.default.delete(URL_A), false);
  });

  it("a miss is undefined", async () => {
    assert.equal(await caches.default.match("https://example.com/none"), undefined);
  });
});

describe("named caches", () => {
  it("are separate from caches.default and from each other, including one named default", async () => {
    const x = await caches.open("x");
    const y = await caches.open("y");
    const named = await caches.open("default");
    await x.put(URL_A, response("in x"));
    assert.equal(await stored(), undefined);
    assert.equal(await y.match(URL_A), undefined);
    assert.equal(await named.match(URL_A), undefined);
    assert.equal(await (await caches.open("x")).match(URL_A).then((r) => r?.text()), "in x");
    await caches.default.put(URL_A, response("in default"));
    assert.equal(await (await x.match(URL_A))?.text(), "in x");
    assert.equal(await named.match(URL_A), undefined);
  });

  it("rejects names of 1024 UTF-8 bytes or more", async () => {
    await caches.open("n".repeat(1023));
    await assert.rejects(caches.open("n".repeat(1024)), TypeError);
    await assert.rejects(caches.open("é".repeat(512)), /too long/);
  });

  it("add, addAll, matchAll and keys throw a clear not-implemented error", () => {
    const cache = caches.default;
    for (const call of [() => cache.add(URL_A), () => cache.addAll([URL_A]), () => cache.matchAll(), () => cache.keys()]) {
      assert.throws(call, (err: unknown) => {
        assert.equal((err as { code?: string }).code, "LEDGE_CACHE_UNIMPLEMENTED");
        assert.match((err as Error).message, /not implemented/);
        return true;
      });
    }
  });
});
