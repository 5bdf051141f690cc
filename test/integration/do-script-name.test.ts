/**
 * A Durable Object binding with `script_name`, through the real CLI running two apps on one node
 * (`ledge serve FRONT BACKEND --trust front,backend`): the front app reaches the backend app's
 * class by RPC and `stub.fetch`, errors keep their name, message and `remote`, `ctx.id.name`
 * arrives, and both apps address the same object for the same name. The backend is reached
 * directly through its route (Host header). Also: `ledge dev` refuses several projects.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { removeDir, runLedge, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";
import { json } from "./do-helpers.js";

const BACKEND_TOML = `
name = "backend"
main = "src/index.js"
compatibility_date = "2026-11-01"
route = "backend.test/*"

[[durable_objects.bindings]]
name = "SHARED"
class_name = "Shared"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Shared"]
`;

const BACKEND = `
import { DurableObject } from "cloudflare:workers";

export class Shared extends DurableObject {
  async add(n) {
    const total = ((await this.ctx.storage.get("total")) ?? 0) + n;
    await this.ctx.storage.put("total", total);
    return { total, name: this.ctx.id.name ?? null, id: this.ctx.id.toString() };
  }
  fail() {
    throw new RangeError("backend object failed");
  }
  notCloneable() {
    return { fn() {} };
  }
  async fetch(request) {
    return new Response("backend object saw " + request.method + " " + new URL(request.url).pathname + " for " + this.ctx.id.name);
  }
}

export default {
  async fetch(request, env) {
    const name = new URL(request.url).searchParams.get("name");
    return Response.json({ app: "backend", ...(await env.SHARED.getByName(name).add(0)) });
  },
};
`;

const FRONT_TOML = `
name = "front"
main = "src/index.js"
compatibility_date = "2026-11-01"

[[durable_objects.bindings]]
name = "REMOTE"
class_name = "Shared"
script_name = "backend"
`;

const FRONT = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const stub = env.REMOTE.getByName(url.searchParams.get("name"));
    switch (url.pathname) {
      case "/add":
        return Response.json({ app: "front", ...(await stub.add(Number(url.searchParams.get("n")))) });
      case "/fetch":
        return stub.fetch("https://backend/some/path", { method: "PUT", body: "x" });
      case "/uncloneable": {
        // A result that cannot cross threads, next to an ordinary call in the same turn.
        const [bad, good] = await Promise.allSettled([stub.notCloneable(), stub.add(1)]);
        return Response.json({
          bad: bad.status === "rejected" ? { name: bad.reason.name, message: bad.reason.message } : "fulfilled",
          good: good.status === "fulfilled" ? good.value.total : String(good.reason),
        });
      }
      case "/fail":
        try {
          await stub.fail();
          return new Response("no error");
        } catch (e) {
          return Response.json({ name: e.name, message: e.message, remote: e.remote === true });
        }
    }
    return new Response("not found", { status: 404 });
  },
};
`;

let front: string;
let backend: string;
let stateDir: string;
let ledge: RunningLedge;

before(async () => {
  front = writeProject({ "wrangler.toml": FRONT_TOML, "src/index.js": FRONT }, "ledge-front-");
  backend = writeProject({ "wrangler.toml": BACKEND_TOML, "src/index.js": BACKEND }, "ledge-backend-");
  stateDir = mkdtempSync(join(tmpdir(), "ledge-multi-state-"));
  ledge = await startLedge(front, { args: [backend, "--trust", "front,backend", "--persist-to", stateDir, "--no-access-log", "--isolates", "2"] });
});

after(async () => {
  await ledge?.stop();
  for (const d of [front, backend, stateDir]) if (d) removeDir(d);
});

/** GET through the backend app's route. */
function getBackend(path: string): Promise<any> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port: ledge.port, path, headers: { host: "backend.test" } }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve(JSON.parse(body)));
      })
      .on("error", reject);
  });
}

describe("script_name bindings between two apps on one node", () => {
  test("RPC from the front app reaches the backend's object, with ctx.id.name", async () => {
    const first = await json(`${ledge.url}/add?name=shared-1&n=5`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.app, "front");
    assert.equal(first.body.total, 5);
    assert.equal(first.body.name, "shared-1");
    const second = await json(`${ledge.url}/add?name=shared-1&n=2`);
    assert.equal(second.body.total, 7);
  });

  test("both apps address the same object for the same name", async () => {
    const viaFront = (await json(`${ledge.url}/add?name=shared-2&n=3`)).body;
    const viaBackend = await getBackend("/?name=shared-2");
    assert.equal(viaBackend.app, "backend", "the Host header routed to the backend app");
    assert.equal(viaBackend.id, viaFront.id);
    assert.equal(viaBackend.total, 3);
  });

  test("stub.fetch crosses apps", async () => {
    const res = await fetch(`${ledge.url}/fetch?name=shared-3`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "backend object saw PUT /some/path for shared-3");
  });

  test("an error thrown in the other app's object keeps its name and message, with remote = true", async () => {
    const { body } = await json(`${ledge.url}/fail?name=shared-4`);
    assert.deepEqual(body, { name: "RangeError", message: "backend object failed", remote: true });
  });

  test("ledge dev refuses several projects", async () => {
    const r = await runLedge(["dev", front, backend, "--port", "0"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ledge dev watches one project/);
  });

  test("a result that cannot be cloned fails that call only", async () => {
    const { status, body } = await json(`${ledge.url}/uncloneable?name=shared-5`);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.bad.name, "DataCloneError");
    assert.equal(body.good, 1, "the other call made at the same time was answered");
  });
});
