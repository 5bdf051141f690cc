/**
 * Durable Object ids and namespaces through the real CLI: `idFromName` (deterministic per
 * namespace, stable across restarts, equal to `getByName(..).id`), `newUniqueId`, `idFromString`
 * (malformed strings and ids of another namespace throw a TypeError), `id.equals`/`id.name`,
 * `get(id, {locationHint})`, and `ctx.id` inside the object (constructor, fetch, RPC).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { json, serveProject, wranglerToml, type DoProject } from "./do-helpers.js";

const WORKER = `
import { DurableObject } from "cloudflare:workers";

export class Alpha extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.ctorName = ctx.id.name ?? null;
    this.ctorId = ctx.id.toString();
  }
  async fetch(request) {
    return Response.json({ ctor: this.ctorName, ctorId: this.ctorId, fetch: this.ctx.id.name ?? null, id: this.ctx.id.toString() });
  }
  whoami() {
    return { ctor: this.ctorName, rpc: this.ctx.id.name ?? null, id: this.ctx.id.toString() };
  }
  async remember(value) {
    await this.ctx.storage.put("value", value);
  }
  async recall() {
    return (await this.ctx.storage.get("value")) ?? null;
  }
}

export class Beta extends DurableObject {}

function caught(fn) {
  try {
    fn();
    return null;
  } catch (e) {
    return { name: e.name, message: e.message, isTypeError: e instanceof TypeError };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = url.searchParams;
    switch (url.pathname) {
      case "/ids": {
        const a = env.ALPHA.idFromName("x");
        const unique1 = env.ALPHA.newUniqueId();
        const unique2 = env.ALPHA.newUniqueId();
        return Response.json({
          a: a.toString(),
          aAgain: env.ALPHA.idFromName("x").toString(),
          other: env.ALPHA.idFromName("y").toString(),
          byName: env.ALPHA.getByName("x").id.toString(),
          stubName: env.ALPHA.getByName("x").name ?? null,
          b: env.BETA.idFromName("x").toString(),
          name: a.name ?? null,
          equalsSame: a.equals(env.ALPHA.idFromName("x")),
          equalsOther: a.equals(env.ALPHA.idFromName("y")),
          fromString: env.ALPHA.idFromString(a.toString()).toString(),
          fromStringEquals: env.ALPHA.idFromString(a.toString()).equals(a),
          fromStringName: env.ALPHA.idFromString(a.toString()).name ?? null,
          unique1: unique1.toString(),
          unique2: unique2.toString(),
          uniqueName: unique1.name ?? null,
          uniqueRoundTrip: env.ALPHA.idFromString(unique1.toString()).equals(unique1),
          json: JSON.stringify({ id: a }),
        });
      }
      case "/errors": {
        const a = env.ALPHA.idFromName("x").toString();
        return Response.json({
          crossNamespace: caught(() => env.BETA.idFromString(a)),
          crossGet: caught(() => env.BETA.get(env.ALPHA.idFromName("x"))),
          short: caught(() => env.ALPHA.idFromString("abc")),
          notHex: caught(() => env.ALPHA.idFromString("z".repeat(64))),
          tampered: caught(() => env.ALPHA.idFromString((a[0] === "0" ? "1" : "0") + a.slice(1))),
        });
      }
      case "/fetch":
        return env.ALPHA.get(env.ALPHA.idFromName(q.get("name")), { locationHint: "weur" }).fetch("https://object/");
      case "/rpc":
        return Response.json(await env.ALPHA.getByName(q.get("name")).whoami());
      case "/remember": {
        const id = q.has("id") ? env.ALPHA.idFromString(q.get("id")) : env.ALPHA.idFromName(q.get("name"));
        await env.ALPHA.get(id).remember(q.get("value"));
        return Response.json({ ok: true });
      }
      case "/recall": {
        const id = q.has("id") ? env.ALPHA.idFromString(q.get("id")) : env.ALPHA.idFromName(q.get("name"));
        return Response.json({ value: await env.ALPHA.get(id).recall() });
      }
      case "/unique":
        return Response.json({ id: env.ALPHA.newUniqueId().toString() });
    }
    return new Response("not found", { status: 404 });
  },
};
`;

let p: DoProject;

before(async () => {
  p = await serveProject({ "wrangler.toml": wranglerToml({ classes: ["Alpha", "Beta"] }), "src/index.js": WORKER }, ["--isolates", "2"]);
});

after(async () => {
  await p?.close();
});

describe("Durable Object ids and namespaces", () => {
  test("idFromName is 64 lower-case hex, deterministic per namespace, and equals getByName().id", async () => {
    const { status, body } = await json(`${p.url}/ids`);
    assert.equal(status, 200, JSON.stringify(body));
    assert.match(body.a, /^[0-9a-f]{64}$/);
    assert.equal(body.aAgain, body.a);
    assert.notEqual(body.other, body.a);
    assert.equal(body.byName, body.a);
    assert.equal(body.stubName, "x");
    assert.match(body.b, /^[0-9a-f]{64}$/);
    assert.notEqual(body.b, body.a, "the same name in another namespace gives another id");
    assert.equal(body.name, "x");
    assert.equal(body.equalsSame, true);
    assert.equal(body.equalsOther, false);
    assert.equal(body.json, JSON.stringify({ id: body.a }));
  });

  test("idFromString round-trips ids and newUniqueId makes distinct unnamed ids", async () => {
    const { body } = await json(`${p.url}/ids`);
    assert.equal(body.fromString, body.a);
    assert.equal(body.fromStringEquals, true);
    assert.equal(body.fromStringName, null);
    assert.match(body.unique1, /^[0-9a-f]{64}$/);
    assert.notEqual(body.unique1, body.unique2);
    assert.equal(body.uniqueName, null);
    assert.equal(body.uniqueRoundTrip, true);
  });

  test("malformed ids and ids of another namespace are rejected with a TypeError", async () => {
    const { body } = await json(`${p.url}/errors`);
    for (const key of ["crossNamespace", "crossGet", "short", "notHex", "tampered"]) {
      assert.ok(body[key], `${key} should throw`);
      assert.equal(body[key].isTypeError, true, `${key}: ${JSON.stringify(body[key])}`);
      assert.equal(body[key].name, "TypeError");
    }
    assert.match(body.crossNamespace.message, /not for this Durable Object class/);
    assert.match(body.short.message, /64 hex/);
  });

  test("ctx.id inside the object carries the name in the constructor, fetch and RPC", async () => {
    const ids = (await json(`${p.url}/ids`)).body;
    const viaFetch = await json(`${p.url}/fetch?name=x`);
    assert.equal(viaFetch.status, 200);
    assert.deepEqual(viaFetch.body, { ctor: "x", ctorId: ids.a, fetch: "x", id: ids.a });
    // Several names so that objects land on both isolates of the pool.
    for (const name of ["n1", "n2", "n3", "n4", "n5", "n6"]) {
      const rpc = await json(`${p.url}/rpc?name=${name}`);
      assert.equal(rpc.status, 200, JSON.stringify(rpc.body));
      assert.equal(rpc.body.ctor, name);
      assert.equal(rpc.body.rpc, name);
      assert.match(rpc.body.id, /^[0-9a-f]{64}$/);
    }
  });

  test("ids and the data behind them are stable across a restart of the node", async () => {
    const before = (await json(`${p.url}/ids`)).body;
    const unique = (await json(`${p.url}/unique`)).body.id as string;
    assert.equal((await json(`${p.url}/remember?name=stable&value=named`)).status, 200);
    assert.equal((await json(`${p.url}/remember?id=${unique}&value=unique`)).status, 200);

    await p.restart();

    const afterRestart = (await json(`${p.url}/ids`)).body;
    assert.equal(afterRestart.a, before.a);
    assert.equal(afterRestart.b, before.b);
    assert.deepEqual((await json(`${p.url}/recall?name=stable`)).body, { value: "named" });
    // An id minted before the restart is still accepted by idFromString and reaches its data.
    assert.deepEqual((await json(`${p.url}/recall?id=${unique}`)).body, { value: "unique" });
  });
});
