/**
 * examples/kv-shortener through the real CLI: the form, creating links from a form and from JSON,
 * 302 redirects that are served from the Cache API after the first one, refused inputs, deletion
 * with the link's token (which must also drop the cached redirect), links written with
 * `ledge kv key put`, and links surviving a restart.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eventually, REPO, removeDir, runLedge, startLedge, type RunningLedge } from "../helpers/ledge.js";

const EXAMPLE = join(REPO, "examples", "kv-shortener");
let stateDir: string;
let ledge: RunningLedge;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "ledge-shortener-state-"));
  ledge = await startLedge(EXAMPLE, { args: ["--persist-to", stateDir, "--no-access-log"] });
});

after(async () => {
  await ledge?.kill();
  removeDir(stateDir);
});

interface Created {
  code: string;
  shortUrl: string;
  url: string;
  deleteToken: string;
}

async function createJson(target: unknown): Promise<Response> {
  return fetch(`${ledge.url}/`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: target }) });
}

async function create(target: string): Promise<Created> {
  const res = await createJson(target);
  assert.equal(res.status, 201);
  return (await res.json()) as Created;
}

function follow(code: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${ledge.url}/${code}`, { redirect: "manual", ...init });
}

/** `ledge kv ...` on the example's LINKS binding and the node's state folder. */
const kv = (...args: string[]) => runLedge(["kv", ...args, "--binding", "LINKS", "--persist-to", stateDir], { cwd: EXAMPLE });

describe("examples/kv-shortener", () => {
  test("GET / serves a form that posts a url field to /", async () => {
    const res = await fetch(`${ledge.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    const html = await res.text();
    assert.match(html, /<form method="post" action="\/">/);
    assert.match(html, /<input type="url" name="url"/);
  });

  test("posting the form answers a page with the short link", async () => {
    const res = await fetch(`${ledge.url}/`, { method: "POST", body: new URLSearchParams({ url: "https://example.com/a?b=1&c=<2>" }) });
    assert.equal(res.status, 201);
    const html = await res.text();
    const m = new RegExp(`<a href="${ledge.url.replace(/[.]/g, "\\.")}/([A-Za-z0-9]{7})">`).exec(html);
    assert.ok(m, html);
    assert.match(html, /https:\/\/example\.com\/a\?b=1&#38;c=&#60;2&#62;/, "the target is shown HTML-escaped");
    const redirect = await follow(m[1]!);
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get("location"), "https://example.com/a?b=1&c=<2>");
  });

  test("a JSON request gets JSON; the code redirects, first from KV, then from the cache", async () => {
    const link = await create("https://example.org/docs/page");
    assert.match(link.code, /^[A-Za-z0-9]{7}$/);
    assert.equal(link.shortUrl, `${ledge.url}/${link.code}`);
    assert.equal(link.url, "https://example.org/docs/page");

    const first = await follow(link.code);
    assert.equal(first.status, 302);
    assert.equal(first.headers.get("location"), link.url);
    assert.equal(first.headers.get("cf-cache-status"), null, "the first redirect is made from KV");
    // The Worker stores the redirect with ctx.waitUntil after answering, so wait for it to land.
    const cached = await eventually(async () => {
      const r = await follow(link.code);
      return r.headers.get("cf-cache-status") === "HIT" ? r : null;
    }, "the redirect to be served from the cache");
    assert.equal(cached.status, 302);
    assert.equal(cached.headers.get("location"), link.url);
  });

  test("a cached redirect is served even after the KV entry is gone behind the Worker's back", async () => {
    const link = await create("https://example.net/cached");
    await follow(link.code);
    await eventually(async () => (await follow(link.code)).headers.get("cf-cache-status") === "HIT", "the redirect to be cached");
    const r = await kv("key", "delete", `link:${link.code}`);
    assert.equal(r.code, 0, r.stderr);
    const res = await follow(link.code);
    assert.equal(res.status, 302, "answered from the cache, not KV");
    assert.equal(res.headers.get("location"), link.url);
  });

  test("bad inputs get a 400 with a reason; nothing is stored", async () => {
    const cases: [unknown, RegExp][] = [
      ["javascript:alert(1)", /Only http: and https: URLs/],
      ["not a url", /not a valid URL/],
      ["", /Give the URL/],
      [42, /Give the URL/],
      [`https://example.com/${"x".repeat(2048)}`, /longer than 2048/],
    ];
    for (const [target, reason] of cases) {
      const res = await createJson(target);
      assert.equal(res.status, 400, String(target));
      assert.match(((await res.json()) as { error: string }).error, reason);
    }
    const form = await fetch(`${ledge.url}/`, { method: "POST", body: new URLSearchParams({ url: "ftp://example.com/" }) });
    assert.equal(form.status, 400);
    assert.match(await form.text(), /Only http: and https: URLs/);
    const list = await kv("key", "list");
    const stored = (JSON.parse(list.stdout) as { name: string }[]).map((k) => k.name);
    assert.ok(stored.every((name) => /^link:[A-Za-z0-9]{7}$/.test(name)), stored.join(", "));
  });

  test("unknown codes and paths are 404", async () => {
    assert.equal((await follow("nope123")).status, 404);
    assert.equal((await follow("a/b")).status, 404);
    assert.equal((await follow("bad%20code")).status, 404);
  });

  test("DELETE needs the link's token, and removes the link from KV and the cache", async () => {
    const link = await create("https://example.com/to-delete");
    await follow(link.code);
    await eventually(async () => (await follow(link.code)).headers.get("cf-cache-status") === "HIT", "the redirect to be cached");

    const anonymous = await follow(link.code, { method: "DELETE" });
    assert.equal(anonymous.status, 403);
    const wrong = await follow(link.code, { method: "DELETE", headers: { authorization: "Bearer not-the-token" } });
    assert.equal(wrong.status, 403);
    assert.equal((await follow(link.code)).status, 302, "still there after refused deletes");

    const ok = await follow(link.code, { method: "DELETE", headers: { authorization: `Bearer ${link.deleteToken}` } });
    assert.equal(ok.status, 204);
    assert.equal((await follow(link.code)).status, 404, "gone from the cache too");
    assert.equal((await kv("key", "get", `link:${link.code}`)).code, 1, "gone from KV");
  });

  test("a link written with `ledge kv key put` redirects; the CLI reads links the Worker wrote", async () => {
    const put = await kv("key", "put", "link:docs", "https://developers.cloudflare.com/kv/");
    assert.equal(put.code, 0, put.stderr);
    const res = await follow("docs");
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://developers.cloudflare.com/kv/");

    const link = await create("https://example.com/read-by-cli");
    const get = await kv("key", "get", `link:${link.code}`, "--text");
    assert.equal(get.stdout, "https://example.com/read-by-cli\n", get.stderr);
    const list = await kv("key", "list", "--prefix", `link:${link.code}`);
    const [entry] = JSON.parse(list.stdout) as { name: string; metadata: { createdAt: string; deleteToken: string } }[];
    assert.equal(entry?.metadata.deleteToken, link.deleteToken);
    assert.ok(!Number.isNaN(Date.parse(entry!.metadata.createdAt)));
  });

  test("links survive a restart", async () => {
    const link = await create("https://example.com/kept");
    await ledge.stop();
    ledge = await startLedge(EXAMPLE, { args: ["--persist-to", stateDir, "--no-access-log"] });
    const res = await follow(link.code);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://example.com/kept");
  });
});
