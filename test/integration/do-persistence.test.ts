/**
 * Durable Object storage across restarts of the node, through the real CLI:
 * - a clean restart (SIGTERM) keeps KV and SQL data of named and unique-id objects, while memory
 *   starts afresh;
 * - `kill -9` right after 200 concurrent writes were acknowledged: every acknowledged write is
 *   there after the restart (the output gate released no response before its commit);
 * - `kill -9` while writes are still in flight: again every acknowledged write survives;
 * - the same with `--durability normal` (no fsync: it survives a process crash, not a power loss).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { json, serveProject, wranglerToml, type DoProject } from "./do-helpers.js";

const WORKER = `
import { DurableObject } from "cloudflare:workers";

export class Box extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.token = crypto.randomUUID();
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rows (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }
  /** An unawaited write: the response still waits for its commit (the output gate). */
  write(key, value, viaSql) {
    if (viaSql) this.ctx.storage.sql.exec("INSERT OR REPLACE INTO rows (key, value) VALUES (?, ?)", key, value);
    else this.ctx.storage.put(key, value);
    return "ok";
  }
  async read() {
    const kv = Object.fromEntries(await this.ctx.storage.list());
    for (const r of this.ctx.storage.sql.exec("SELECT key, value FROM rows")) kv[r.key] = r.value;
    return { token: this.token, data: kv };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = url.searchParams;
    if (url.pathname === "/unique") return Response.json(env.BOX.newUniqueId().toString());
    const id = q.has("id") ? env.BOX.idFromString(q.get("id")) : env.BOX.idFromName(q.get("obj"));
    const stub = env.BOX.get(id);
    switch (url.pathname) {
      case "/write":
        return Response.json(await stub.write(q.get("key"), q.get("value"), q.get("sql") === "1"));
      case "/read":
        return Response.json(await stub.read());
    }
    return new Response("not found", { status: 404 });
  },
};
`;

const FILES = { "wrangler.toml": wranglerToml({ name: "persist", classes: ["Box"] }), "src/index.js": WORKER };
const OBJECTS = 20;

let p: DoProject;
let normal: DoProject;

before(async () => {
  [p, normal] = await Promise.all([
    serveProject(FILES, ["--isolates", "2"]),
    serveProject(FILES, ["--isolates", "2", "--durability", "normal"]),
  ]);
});

after(async () => {
  await Promise.all([p?.close(), normal?.close()]);
});

interface Write {
  obj: string;
  key: string;
  value: string;
  sql: boolean;
}

function writes(prefix: string, n: number): Write[] {
  return Array.from({ length: n }, (_, i) => ({ obj: `${prefix}-${i % OBJECTS}`, key: `k${i}`, value: `${prefix}-v${i}`, sql: i % 2 === 1 }));
}

/** Sends one write; resolves true only when its 200 response was received. */
async function send(project: DoProject, w: Write): Promise<boolean> {
  try {
    const r = await fetch(`${project.url}/write?obj=${w.obj}&key=${w.key}&value=${w.value}&sql=${w.sql ? 1 : 0}`, { signal: AbortSignal.timeout(15_000) });
    const body = await r.text();
    return r.status === 200 && body === '"ok"';
  } catch {
    return false;
  }
}

async function readAll(project: DoProject, prefix: string): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (let i = 0; i < OBJECTS; i++) {
    const r = await json(`${project.url}/read?obj=${prefix}-${i}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    out.set(`${prefix}-${i}`, r.body.data);
  }
  return out;
}

function assertAllPresent(acked: Write[], stored: Map<string, Record<string, string>>): void {
  const missing = acked.filter((w) => stored.get(w.obj)?.[w.key] !== w.value);
  assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged writes were lost`);
}

describe("Durable Object storage across restarts", () => {
  test("a clean restart keeps the data of named and unique-id objects; memory starts afresh", async () => {
    const unique = (await json<string>(`${p.url}/unique`)).body;
    assert.equal((await json(`${p.url}/write?id=${unique}&key=u&value=unique-value&sql=0`)).status, 200);
    assert.equal((await json(`${p.url}/write?id=${unique}&key=s&value=sql-value&sql=1`)).status, 200);
    assert.equal((await json(`${p.url}/write?obj=named&key=n&value=named-value&sql=0`)).status, 200);
    const before = (await json(`${p.url}/read?obj=named`)).body;

    await p.restart();

    assert.deepEqual((await json(`${p.url}/read?id=${unique}`)).body.data, { u: "unique-value", s: "sql-value" });
    const after = (await json(`${p.url}/read?obj=named`)).body;
    assert.deepEqual(after.data, { n: "named-value" });
    assert.notEqual(after.token, before.token, "a new instance after the restart");
  });

  test("kill -9 right after 200 concurrent writes were acknowledged loses none of them", async () => {
    const batch = writes("acked", 200);
    const results = await Promise.all(batch.map((w) => send(p, w)));
    assert.ok(results.every(Boolean), "every write was acknowledged before the kill");
    await p.restart({ kill: true });
    assertAllPresent(batch, await readAll(p, "acked"));
  });

  test("kill -9 with writes in flight: every acknowledged write survives", async () => {
    const batch = writes("inflight", 400);
    const acked: Write[] = [];
    let killed: Promise<unknown> | null = null;
    await Promise.all(
      batch.map(async (w) => {
        if (await send(p, w)) acked.push(w);
        // Kill once half are acknowledged, with the rest still on their way.
        if (acked.length === 200 && !killed) killed = p.ledge.kill();
      }),
    );
    await killed;
    assert.ok(acked.length >= 200, `${acked.length} writes acknowledged`);
    await p.restart();
    assertAllPresent(acked, await readAll(p, "inflight"));
  });

  test("--durability normal: acknowledged writes survive kill -9 too", async () => {
    const batch = writes("normal", 200);
    const results = await Promise.all(batch.map((w) => send(normal, w)));
    assert.ok(results.every(Boolean));
    await normal.restart({ kill: true });
    assertAllPresent(batch, await readAll(normal, "normal"));
  });
});
