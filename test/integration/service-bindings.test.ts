/**
 * Service bindings between two apps on one node (`ledge serve FRONT AUTH --trust front,auth`): `env.AUTH.fetch()`
 * reaches the other app's fetch handler, RPC reaches methods of its default `WorkerEntrypoint` and
 * of a named entrypoint, errors keep name and message, and a missing method is a clear error.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

const AUTH = {
  "wrangler.toml": `name = "auth"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\nroute = "auth.test/*"\n[vars]\nSECRET = "s3cret"\n`,
  "index.js": `
import { WorkerEntrypoint } from "cloudflare:workers";
export default class Auth extends WorkerEntrypoint {
  async fetch(request) {
    return new Response("auth saw " + request.method + " " + new URL(request.url).pathname + " with " + request.headers.get("x-token"));
  }
  check(token) {
    console.log("checking " + token);
    return { ok: token === this.env.SECRET, checkedBy: "auth" };
  }
  explode() {
    throw new RangeError("auth exploded");
  }
}
export class Admin extends WorkerEntrypoint {
  stats(n) {
    return { doubled: n * 2, bytes: new Uint8Array([1, 2, 3]) };
  }
}
`,
};

const FRONT = {
  "wrangler.toml": `name = "front"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\n\n[[services]]\nbinding = "AUTH"\nservice = "auth"\n\n[[services]]\nbinding = "ADMIN"\nservice = "auth"\nentrypoint = "Admin"\n`,
  "index.js": `
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    try {
      if (path === "/fetch") {
        const res = await env.AUTH.fetch("http://auth/inner", { method: "POST", headers: { "x-token": "abc" } });
        return new Response(res.status + " " + (await res.text()));
      }
      if (path === "/rpc") return Response.json([await env.AUTH.check("s3cret"), await env.AUTH.check("nope")], { headers: { "x-request-id": request.headers.get("cf-ray").split("-")[0] } });
      if (path === "/named") {
        const r = await env.ADMIN.stats(21);
        return Response.json({ doubled: r.doubled, bytes: [...r.bytes], isU8: r.bytes instanceof Uint8Array });
      }
      if (path === "/error") await env.AUTH.explode();
      if (path === "/missing") await env.AUTH.nope();
      return new Response("no route", { status: 404 });
    } catch (err) {
      return Response.json({ name: err.name, message: err.message }, { status: 500 });
    }
  },
};
`,
};

describe("service bindings between apps", () => {
  let front: string;
  let auth: string;
  let ledge: RunningLedge;

  before(async () => {
    front = writeProject(FRONT);
    auth = writeProject(AUTH);
    ledge = await startLedge(front, { args: [auth, "--trust", "front,auth", "--no-access-log"] });
  });

  after(async () => {
    await ledge?.stop();
    removeDir(front);
    removeDir(auth);
  });

  test("fetch() reaches the other app's fetch handler with method, path and headers", async () => {
    const res = await fetch(`${ledge.url}/fetch`);
    assert.equal(await res.text(), "200 auth saw POST /inner with abc");
  });

  test("RPC calls methods of the default WorkerEntrypoint, which sees its own env", async () => {
    const res = await fetch(`${ledge.url}/rpc`);
    assert.deepEqual(await res.json(), [
      { ok: true, checkedBy: "auth" },
      { ok: false, checkedBy: "auth" },
    ]);
    // The callee's log lines carry the id of the request that made the call.
    const reqId = res.headers.get("x-request-id");
    assert.match(reqId ?? "", /^[0-9a-f]{8,}$/);
    await ledge.waitFor(`[auth ${reqId}] checking nope`);
  });

  test("RPC to a named entrypoint returns structured-clone values", async () => {
    const res = await fetch(`${ledge.url}/named`);
    assert.deepEqual(await res.json(), { doubled: 42, bytes: [1, 2, 3], isU8: true });
  });

  test("an error thrown by the callee keeps its name and message", async () => {
    const res = await fetch(`${ledge.url}/error`);
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { name: "RangeError", message: "auth exploded" });
  });

  test("calling a method the entrypoint does not have is a clear TypeError", async () => {
    const res = await fetch(`${ledge.url}/missing`);
    const body = (await res.json()) as { name: string; message: string };
    assert.equal(body.name, "TypeError");
    assert.match(body.message, /does not implement the method "nope"/);
  });
});
