/**
 * Stubs through the real CLI: JS RPC with structured-clonable arguments and results, errors thrown
 * in the object re-thrown in the caller (same name and message, `remote` set), calls to methods
 * that do not exist or are not RPC, classes that do not extend `DurableObject`, constructors that
 * throw, property reads, and `stub.fetch(request | url, init)`. The pool has two isolates and every
 * check runs for names whose objects live on both, so the same-isolate and cross-isolate paths are
 * both exercised.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { json, serveProject, wranglerToml, type DoProject } from "./do-helpers.js";

const WORKER = `
import { DurableObject } from "cloudflare:workers";

class MyError extends Error {
  constructor(message) {
    super(message);
    this.name = "MyError";
  }
}

export class Calc extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.greeting = "hello " + ctx.id.name;
  }
  echo(value) {
    return value;
  }
  notCloneable() {
    return { fn() {} };
  }
  /** What arrived in the object, described from inside it. */
  inspect(value) {
    return {
      date: value.date instanceof Date,
      map: value.map instanceof Map,
      set: value.set instanceof Set,
      bytes: value.bytes instanceof Uint8Array,
      buf: value.buf instanceof ArrayBuffer,
    };
  }
  async add(a, b) {
    await this.ctx.storage.put("last", a + b);
    return a + b;
  }
  fail(kind, message) {
    if (kind === "TypeError") throw new TypeError(message);
    if (kind === "RangeError") throw new RangeError(message);
    if (kind === "MyError") throw new MyError(message);
    throw new Error(message);
  }
  /** Holds every other event back for \`ms\`. */
  async hold(ms) {
    await this.ctx.blockConcurrencyWhile(() => new Promise((r) => setTimeout(r, ms)));
    return "held";
  }
  async failLater(message) {
    await this.ctx.storage.get("anything");
    throw new Error(message);
  }
  async fetch(request) {
    if (request.headers.get("x-fail")) throw new RangeError("fetch failed on purpose");
    return Response.json({
      method: request.method,
      url: request.url,
      header: request.headers.get("x-test"),
      body: request.method === "GET" ? null : await request.text(),
      greeting: this.greeting,
    });
  }
}

export class Plain {
  constructor(ctx, env) {
    this.ctx = ctx;
  }
  hello() {
    return "hi";
  }
  async fetch(request) {
    return new Response("plain fetch works");
  }
}

export class Broken extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    throw new RangeError("constructor failed on purpose");
  }
  ping() {
    return "pong";
  }
}

function errorInfo(e) {
  return { name: e.name, message: e.message, remote: e.remote === true, retryable: e.retryable === true, overloaded: e.overloaded === true };
}
async function settle(p) {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    return { ok: false, error: errorInfo(e) };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const names = (url.searchParams.get("names") ?? "a").split(",");
    const out = {};
    for (const name of names) {
      const stub = env.CALC.getByName(name);
      switch (url.pathname) {
        case "/ids":
          out[name] = stub.id.toString();
          break;
        case "/clone": {
          const value = {
            date: new Date(1700000000000),
            map: new Map([["k", { deep: [1, 2] }]]),
            set: new Set(["x", "y"]),
            bytes: new Uint8Array([1, 2, 3]),
            buf: new Uint8Array([4, 5]).buffer,
            nested: { a: [1, { b: "c" }], n: null },
            big: 12345678901234567890n,
            re: /ab+c/gi,
            nan: NaN,
            undef: undefined,
          };
          const r = await stub.echo(value);
          out[name] = {
            copied: r !== value && r.nested !== value.nested,
            date: r.date instanceof Date ? r.date.getTime() : "not a Date",
            map: r.map instanceof Map ? [...r.map] : "not a Map",
            set: r.set instanceof Set ? [...r.set] : "not a Set",
            bytes: r.bytes instanceof Uint8Array ? [...r.bytes] : "not a Uint8Array",
            buf: r.buf instanceof ArrayBuffer ? [...new Uint8Array(r.buf)] : "not an ArrayBuffer",
            nested: r.nested,
            big: typeof r.big === "bigint" ? r.big.toString() : "not a bigint",
            re: r.re instanceof RegExp ? r.re.toString() : "not a RegExp",
            nan: Number.isNaN(r.nan),
            undef: "undef" in r && r.undef === undefined,
            inside: await stub.inspect(value),
            sum: await stub.add(2, 3),
            primitive: await stub.echo("just a string"),
          };
          break;
        }
        case "/errors":
          out[name] = {
            type: await settle(stub.fail("TypeError", "bad type")),
            range: await settle(stub.fail("RangeError", "out of range")),
            plain: await settle(stub.fail("Error", "plain error")),
            custom: await settle(stub.fail("MyError", "custom error")),
            later: await settle(stub.failLater("after an await")),
            missing: await settle(stub.noSuchMethod(1)),
            lifecycle: await settle(stub.alarm()),
            webSocketMessage: await settle(stub.webSocketMessage()),
            property: await settle(stub.greeting),
            uncloneable: await settle(stub.notCloneable()),
            afterErrors: await settle(stub.add(1, 1)),
          };
          break;
        case "/plain": {
          const plain = env.PLAIN.getByName(name);
          out[name] = { rpc: await settle(plain.hello()), fetch: await (await plain.fetch("https://plain/")).text() };
          break;
        }
        case "/broken": {
          const broken = env.BROKEN.getByName(name);
          out[name] = { first: await settle(broken.ping()), second: await settle(broken.ping()), fetch: await settle(broken.fetch("https://broken/")) };
          break;
        }
        case "/overload": {
          const held = stub.hold(500);
          await new Promise((r) => setTimeout(r, 50));
          const results = await Promise.allSettled(Array.from({ length: 10_050 }, () => stub.echo(1)));
          const rejected = results.filter((r) => r.status === "rejected").map((r) => errorInfo(r.reason));
          out[name] = {
            held: await held,
            fulfilled: results.filter((r) => r.status === "fulfilled").length,
            rejected: rejected.length,
            kinds: [...new Set(rejected.map((e) => JSON.stringify(e)))].map((e) => JSON.parse(e)),
          };
          break;
        }
        case "/fetch": {
          const viaUrl = await (await stub.fetch("https://do.example/path?q=1", { method: "POST", headers: { "x-test": "init" }, body: "posted" })).json();
          const viaRequest = await (await stub.fetch(new Request("https://do.example/req", { method: "PUT", headers: { "x-test": "request" }, body: "put body" }))).json();
          const viaUrlObject = await (await stub.fetch(new URL("https://do.example/u"))).json();
          out[name] = {
            viaUrl,
            viaRequest,
            viaUrlObject,
            relative: await settle(stub.fetch("/relative")),
            thrown: await settle(stub.fetch("https://do.example/", { headers: { "x-fail": "1" } })),
          };
          break;
        }
        default:
          return new Response("not found", { status: 404 });
      }
    }
    return Response.json(out);
  },
};
`;

let p: DoProject;
/** Names whose objects land on isolate 0 and on isolate 1 (see src/objects/directory.ts). */
let names: string[];

before(async () => {
  p = await serveProject(
    { "wrangler.toml": wranglerToml({ classes: ["Calc", "Plain", "Broken"] }), "src/index.js": WORKER },
    ["--isolates", "2"],
  );
  const candidates = ["a", "b", "c", "d", "e", "f", "g", "h"];
  const ids = (await json<Record<string, string>>(`${p.url}/ids?names=${candidates.join(",")}`)).body;
  const byIsolate = [0, 1].map((i) => candidates.filter((n) => Number.parseInt(ids[n]!.slice(0, 8), 16) % 2 === i));
  assert.ok(byIsolate[0]!.length > 0 && byIsolate[1]!.length > 0, "the candidate names cover both isolates");
  names = [byIsolate[0]![0]!, byIsolate[1]![0]!];
});

after(async () => {
  await p?.close();
});

describe("Durable Object RPC and stubs", () => {
  test("arguments and results are structured clones (Date, Map, Set, bytes, BigInt, RegExp, nesting)", async () => {
    const { status, body } = await json(`${p.url}/clone?names=${names.join(",")}`);
    assert.equal(status, 200, JSON.stringify(body));
    for (const name of names) {
      const r = body[name];
      assert.equal(r.copied, true, "the caller gets a copy, not the object it passed");
      assert.equal(r.date, 1700000000000);
      assert.deepEqual(r.map, [["k", { deep: [1, 2] }]]);
      assert.deepEqual(r.set, ["x", "y"]);
      assert.deepEqual(r.bytes, [1, 2, 3]);
      assert.deepEqual(r.buf, [4, 5]);
      assert.deepEqual(r.nested, { a: [1, { b: "c" }], n: null });
      assert.equal(r.big, "12345678901234567890");
      assert.equal(r.re, "/ab+c/gi");
      assert.equal(r.nan, true);
      assert.equal(r.undef, true);
      assert.deepEqual(r.inside, { date: true, map: true, set: true, bytes: true, buf: true });
      assert.equal(r.sum, 5);
      assert.equal(r.primitive, "just a string");
    }
  });

  test("errors thrown in the object reach the caller with their name and message and remote = true", async () => {
    const { status, body } = await json(`${p.url}/errors?names=${names.join(",")}`);
    assert.equal(status, 200, JSON.stringify(body));
    for (const name of names) {
      const r = body[name];
      assert.deepEqual(r.type, { ok: false, error: { name: "TypeError", message: "bad type", remote: true, retryable: false, overloaded: false } });
      assert.deepEqual(r.range.error, { name: "RangeError", message: "out of range", remote: true, retryable: false, overloaded: false });
      assert.deepEqual(r.plain.error, { name: "Error", message: "plain error", remote: true, retryable: false, overloaded: false });
      assert.equal(r.custom.error.name, "MyError");
      assert.equal(r.custom.error.message, "custom error");
      assert.equal(r.custom.error.remote, true);
      assert.deepEqual(r.later.error, { name: "Error", message: "after an await", remote: true, retryable: false, overloaded: false });
      // An error in a method is the caller's problem; the object keeps working.
      assert.deepEqual(r.afterErrors, { ok: true, value: 2 });
    }
  });

  test("methods that do not exist, and lifecycle handlers, are rejected clearly; properties can be read", async () => {
    const { body } = await json(`${p.url}/errors?names=${names.join(",")}`);
    for (const name of names) {
      const r = body[name];
      assert.equal(r.missing.ok, false);
      assert.equal(r.missing.error.name, "TypeError");
      assert.match(r.missing.error.message, /does not implement the method "noSuchMethod"/);
      assert.equal(r.lifecycle.ok, false);
      assert.match(r.lifecycle.error.message, /does not implement the method "alarm"/);
      assert.equal(r.webSocketMessage.ok, false);
      assert.deepEqual(r.property, { ok: true, value: `hello ${name}` });
      assert.equal(r.uncloneable.ok, false, "a result that cannot be cloned is an error, not a hang");
      assert.equal(r.uncloneable.error.name, "DataCloneError");
    }
  });

  test("a class that does not extend DurableObject serves fetch but refuses RPC", async () => {
    const { body } = await json(`${p.url}/plain?names=${names.join(",")}`);
    for (const name of names) {
      assert.equal(body[name].fetch, "plain fetch works");
      assert.equal(body[name].rpc.ok, false);
      assert.equal(body[name].rpc.error.name, "TypeError");
      assert.match(body[name].rpc.error.message, /extends DurableObject/);
    }
  });

  test("a constructor that throws reaches every caller with remote = true", async () => {
    const { body } = await json(`${p.url}/broken?names=${names.join(",")}`);
    for (const name of names) {
      for (const key of ["first", "second", "fetch"]) {
        const r = body[name][key];
        assert.equal(r.ok, false, `${key}: ${JSON.stringify(r)}`);
        assert.equal(r.error.name, "RangeError");
        assert.equal(r.error.message, "constructor failed on purpose");
        assert.equal(r.error.remote, true);
      }
    }
  });

  test("stub.fetch accepts a URL with init, a Request and a URL object; relative URLs are refused", async () => {
    const { status, body } = await json(`${p.url}/fetch?names=${names.join(",")}`);
    assert.equal(status, 200, JSON.stringify(body));
    for (const name of names) {
      const r = body[name];
      assert.deepEqual(r.viaUrl, { method: "POST", url: "https://do.example/path?q=1", header: "init", body: "posted", greeting: `hello ${name}` });
      assert.deepEqual(r.viaRequest, { method: "PUT", url: "https://do.example/req", header: "request", body: "put body", greeting: `hello ${name}` });
      assert.deepEqual(r.viaUrlObject, { method: "GET", url: "https://do.example/u", header: null, body: null, greeting: `hello ${name}` });
      assert.equal(r.relative.ok, false);
      assert.equal(r.relative.error.name, "TypeError");
      assert.deepEqual(r.thrown.error, { name: "RangeError", message: "fetch failed on purpose", remote: true, retryable: false, overloaded: false });
    }
  });

  test("calls beyond 10,000 queued for one object are refused with overloaded = true", async () => {
    const { status, body } = await json(`${p.url}/overload?names=${names.join(",")}`, undefined, 60_000);
    assert.equal(status, 200, JSON.stringify(body));
    for (const name of names) {
      const r = body[name];
      assert.equal(r.held, "held");
      assert.ok(r.rejected >= 1 && r.rejected <= 50, `${r.rejected} calls refused`);
      assert.equal(r.fulfilled + r.rejected, 10_050);
      assert.deepEqual(r.kinds, [
        { name: "Error", message: "Durable Object is overloaded. Too many requests queued.", remote: true, retryable: false, overloaded: true },
      ]);
    }
  });
});
