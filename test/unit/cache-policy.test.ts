// Storage rules for cache.put(): which responses are stored, for how long, with which headers.
// These are pure functions of headers and a time, so no database is involved.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseCacheControl, planStore, type StorePlan } from "../../src/cache/policy.js";

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

function plan(headers: Record<string, string> | [string, string][], status = 200, auth = false): StorePlan {
  return planStore({ status, headers: new Headers(headers), requestHasAuthorization: auth, now: NOW });
}

function expiresInSec(p: StorePlan): number {
  assert.equal(p.store, true, `expected the response to be stored, got ${JSON.stringify(p)}`);
  return p.store ? (p.expiresAt - NOW) / 1000 : NaN;
}

function reason(p: StorePlan): string {
  assert.equal(p.store, false, "expected the response not to be stored");
  return p.store ? "" : p.reason;
}

describe("parseCacheControl", () => {
  it("lower-cases names, unquotes values and keeps commas inside quotes", () => {
    const d = parseCacheControl('Public, MAX-AGE="60", private="Set-Cookie, X-A"');
    assert.equal(d.get("max-age"), "60");
    assert.equal(d.get("private"), "Set-Cookie, X-A");
    assert.ok(d.has("public"));
    assert.equal(d.get("public"), undefined);
  });

  it("keeps the first occurrence of a repeated directive", () => {
    assert.equal(parseCacheControl("max-age=10, max-age=99").get("max-age"), "10");
  });
});

describe("planStore: freshness", () => {
  it("s-maxage wins over max-age and Expires", () => {
    const p = plan({ "cache-control": "max-age=10, s-maxage=30", expires: new Date(NOW + 99_000).toUTCString() });
    assert.equal(expiresInSec(p), 30);
  });

  it("max-age wins over Expires", () => {
    const p = plan({ "cache-control": "max-age=10", expires: new Date(NOW + 99_000).toUTCString() });
    assert.equal(expiresInSec(p), 10);
  });

  it("Expires is measured from Date when the response has one", () => {
    const date = NOW - 3_600_000;
    const p = plan({ date: new Date(date).toUTCString(), expires: new Date(date + 50_000).toUTCString() });
    assert.equal(expiresInSec(p), 50);
  });

  it("Expires without Date is measured from now", () => {
    assert.equal(expiresInSec(plan({ expires: new Date(NOW + 40_000).toUTCString() })), 40);
  });

  it("an Expires in the past, or invalid like 0, is not stored", () => {
    assert.equal(reason(plan({ expires: new Date(NOW - 1000).toUTCString() })), "stale");
    assert.equal(reason(plan({ expires: "0" })), "stale");
  });

  it("max-age=0, s-maxage=0 and malformed max-age are not stored", () => {
    assert.equal(reason(plan({ "cache-control": "max-age=0" })), "stale");
    assert.equal(reason(plan({ "cache-control": "max-age=60, s-maxage=0" })), "stale");
    assert.equal(reason(plan({ "cache-control": "max-age=soon" })), "stale");
  });

  it("the response's own Age is subtracted from its lifetime", () => {
    const p = plan({ "cache-control": "max-age=100", age: "40" });
    assert.equal(expiresInSec(p), 60);
    assert.equal(p.store && p.initialAgeSec, 40);
    assert.equal(reason(plan({ "cache-control": "max-age=100", age: "100" })), "stale");
  });

  it("without freshness information the Edge TTL default for the status applies", () => {
    assert.equal(expiresInSec(plan({}, 200)), 7200);
    assert.equal(expiresInSec(plan({ "cache-control": "public" }, 301)), 7200);
    assert.equal(expiresInSec(plan({}, 302)), 1200);
    assert.equal(expiresInSec(plan({}, 303)), 1200);
    assert.equal(expiresInSec(plan({}, 404)), 180);
    assert.equal(expiresInSec(plan({}, 410)), 180);
  });

  it("statuses without an Edge TTL default are stored only with explicit freshness", () => {
    assert.equal(reason(plan({}, 500)), "no-default-ttl");
    assert.equal(reason(plan({}, 201)), "no-default-ttl");
    assert.equal(expiresInSec(plan({ "cache-control": "max-age=5" }, 500)), 5);
  });
});

describe("planStore: cacheability", () => {
  it("no-store, bare private and bare no-cache are not stored", () => {
    assert.equal(reason(plan({ "cache-control": "no-store, max-age=60" })), "no-store");
    assert.equal(reason(plan({ "cache-control": "private, max-age=60" })), "private");
    assert.equal(reason(plan({ "cache-control": "no-cache, max-age=60" })), "no-cache");
  });

  it("no-cache=<field> refuses only when that header is present", () => {
    assert.equal(reason(plan({ "cache-control": 'no-cache="x-user", max-age=60', "x-user": "7" })), "no-cache");
    assert.equal(expiresInSec(plan({ "cache-control": 'no-cache="x-user", max-age=60' })), 60);
  });

  it("Set-Cookie prevents storage", () => {
    assert.equal(reason(plan({ "cache-control": "max-age=60", "set-cookie": "a=1" })), "set-cookie");
  });

  it("private=Set-Cookie stores the response without its Set-Cookie headers", () => {
    const p = plan([
      ["cache-control", "max-age=60, private=Set-Cookie"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
      ["x-kept", "yes"],
    ]);
    assert.equal(expiresInSec(p), 60);
    const names = p.store ? p.headers.map(([n]) => n) : [];
    assert.ok(!names.includes("set-cookie"));
    assert.ok(names.includes("x-kept"));
  });

  it('private="<fields>" strips every listed header', () => {
    const p = plan({ "cache-control": 'private="Set-Cookie, X-Secret", max-age=9', "set-cookie": "a=1", "x-secret": "s" });
    assert.deepEqual(p.store && p.headers.map(([n]) => n).sort(), ["cache-control"]);
  });

  it("a request with Authorization is stored only if public, s-maxage or must-revalidate allows it", () => {
    assert.equal(reason(plan({ "cache-control": "max-age=60" }, 200, true)), "authorization");
    assert.equal(expiresInSec(plan({ "cache-control": "public, max-age=60" }, 200, true)), 60);
    assert.equal(expiresInSec(plan({ "cache-control": "s-maxage=60" }, 200, true)), 60);
    assert.equal(expiresInSec(plan({ "cache-control": "must-revalidate, max-age=60" }, 200, true)), 60);
  });
});
