// Conditional and range requests answered by cache.match(): 304, 206 (every Range form), 416,
// multipart/byteranges and If-Range, against entries stored in a real SQLite file.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeCacheStorage, createCacheStorage, type CacheStorage } from "../../src/cache/index.js";
import { selectRanges } from "../../src/cache/conditional.js";

const URL_A = "https://example.com/file.txt";
const BODY = "0123456789abcdefghij"; // 20 bytes
const ETAG = '"v1"';
const LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT";
let dir: string;
let caches: CacheStorage;

function get(headers: Record<string, string>): Promise<Response | undefined> {
  return caches.default.match(new Request(URL_A, { headers }));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ledge-cache-cond-"));
  caches = createCacheStorage({ dbPath: join(dir, "cache.sqlite") });
  await caches.default.put(URL_A, new Response(BODY, {
    headers: { "cache-control": "max-age=600", etag: ETAG, "last-modified": LAST_MODIFIED, "content-type": "text/plain" },
  }));
});
after(() => {
  closeCacheStorage(caches);
  rmSync(dir, { recursive: true, force: true });
});

describe("conditional requests", () => {
  it("If-None-Match with the stored ETag answers 304 without a body", async () => {
    const res = await get({ "if-none-match": ETAG });
    assert.equal(res?.status, 304);
    assert.equal(res?.body, null);
    assert.equal(res?.headers.get("etag"), ETAG);
  });

  it("If-None-Match compares weakly and accepts lists and *", async () => {
    assert.equal((await get({ "if-none-match": 'W/"v1"' }))?.status, 304);
    assert.equal((await get({ "if-none-match": '"x", "v1"' }))?.status, 304);
    assert.equal((await get({ "if-none-match": "*" }))?.status, 304);
  });

  it("If-None-Match with another ETag answers 200 with the body", async () => {
    const res = await get({ "if-none-match": '"v2"' });
    assert.equal(res?.status, 200);
    assert.equal(await res?.text(), BODY);
  });

  it("If-Modified-Since at or after Last-Modified answers 304, before it 200", async () => {
    assert.equal((await get({ "if-modified-since": LAST_MODIFIED }))?.status, 304);
    assert.equal((await get({ "if-modified-since": "Thu, 02 Jan 2025 00:00:00 GMT" }))?.status, 304);
    assert.equal((await get({ "if-modified-since": "Tue, 31 Dec 2024 23:59:59 GMT" }))?.status, 200);
    assert.equal((await get({ "if-modified-since": "not a date" }))?.status, 200);
  });

  it("If-None-Match takes precedence over If-Modified-Since", async () => {
    const res = await get({ "if-none-match": '"v2"', "if-modified-since": "Thu, 02 Jan 2025 00:00:00 GMT" });
    assert.equal(res?.status, 200);
  });
});

describe("range requests", () => {
  async function range(value: string, extra: Record<string, string> = {}) {
    const res = await get({ range: value, ...extra });
    assert.ok(res);
    return { status: res.status, contentRange: res.headers.get("content-range"), length: res.headers.get("content-length"), text: await res.text() };
  }

  it("bytes=a-b answers 206 with the slice", async () => {
    assert.deepEqual(await range("bytes=2-5"), { status: 206, contentRange: "bytes 2-5/20", length: "4", text: "2345" });
  });

  it("bytes=a- runs to the end", async () => {
    assert.deepEqual(await range("bytes=15-"), { status: 206, contentRange: "bytes 15-19/20", length: "5", text: "fghij" });
  });

  it("bytes=-n is the last n bytes, clamped to the whole body", async () => {
    assert.deepEqual(await range("bytes=-3"), { status: 206, contentRange: "bytes 17-19/20", length: "3", text: "hij" });
    assert.equal((await range("bytes=-50")).contentRange, "bytes 0-19/20");
  });

  it("an end past the body is clamped", async () => {
    assert.deepEqual(await range("bytes=18-99"), { status: 206, contentRange: "bytes 18-19/20", length: "2", text: "ij" });
  });

  it("a range starting past the end answers 416 with the full length", async () => {
    const res = await get({ range: "bytes=20-30" });
    assert.equal(res?.status, 416);
    assert.equal(res?.headers.get("content-range"), "bytes */20");
    assert.equal((await range("bytes=-0")).status, 416);
  });

  it("a malformed or non-byte Range is ignored and the full body is sent", async () => {
    for (const value of ["bytes=5-2", "bytes=x-3", "items=0-1", "bytes=-"]) {
      const r = await range(value);
      assert.equal(r.status, 200, value);
      assert.equal(r.text, BODY, value);
    }
  });

  it("several ranges answer multipart/byteranges", async () => {
    const res = await get({ range: "bytes=0-1, 10-12" });
    assert.equal(res?.status, 206);
    const type = res?.headers.get("content-type") ?? "";
    const boundary = /^multipart\/byteranges; boundary=(\w+)$/.exec(type)?.[1];
    assert.ok(boundary, type);
    const text = await res!.text();
    assert.equal(Number(res!.headers.get("content-length")), Buffer.byteLength(text));
    assert.equal(
      text,
      `--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/20\r\n\r\n01\r\n` +
        `--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-12/20\r\n\r\nabc\r\n` +
        `--${boundary}--\r\n`,
    );
  });

  it("If-Range with the current strong ETag or date applies the range, otherwise sends 200", async () => {
    assert.equal((await range("bytes=0-0", { "if-range": ETAG })).status, 206);
    assert.equal((await range("bytes=0-0", { "if-range": LAST_MODIFIED })).status, 206);
    assert.equal((await range("bytes=0-0", { "if-range": '"old"' })).status, 200);
    assert.equal((await range("bytes=0-0", { "if-range": 'W/"v1"' })).status, 200);
  });

  it("a conditional match wins over Range", async () => {
    assert.equal((await get({ range: "bytes=0-1", "if-none-match": ETAG }))?.status, 304);
  });

  it("Range does not slice a stored non-200 response", async () => {
    await caches.default.put("https://example.com/missing", new Response("gone", { status: 404 }));
    const res = await caches.default.match(new Request("https://example.com/missing", { headers: { range: "bytes=0-1" } }));
    assert.equal(res?.status, 404);
    assert.equal(await res?.text(), "gone");
  });
});

describe("selectRanges", () => {
  it("drops unsatisfiable ranges but keeps satisfiable ones", () => {
    assert.deepEqual(selectRanges("bytes=0-1, 50-60", 20), { kind: "partial", ranges: [{ start: 0, end: 1 }] });
  });

  it("treats every range of an empty body as unsatisfiable", () => {
    assert.deepEqual(selectRanges("bytes=0-", 0), { kind: "unsatisfiable" });
    assert.deepEqual(selectRanges("bytes=-5", 0), { kind: "unsatisfiable" });
  });

  it("ignores a header with more than 100 ranges", () => {
    const many = "bytes=" + Array.from({ length: 101 }, (_, i) => `${i}-${i}`).join(",");
    assert.deepEqual(selectRanges(many, 1000), { kind: "full" });
  });
});
