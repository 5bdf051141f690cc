/**
 * Durable Object class lifecycle through the real CLI, restarting one project as its config
 * changes: `renamed_classes` keeps the objects' ids and data, `deleted_classes` removes the data
 * (a class later re-created under that name starts empty) and leaves other classes alone; the
 * declarative `exports` form works in place of `migrations`. Start-up errors, each one clear
 * message and exit code 1: a binding to a class no migration declares, `migrations` and `exports`
 * together, a declared class the code does not export.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { removeDir, runLedge, writeProject } from "../helpers/ledge.js";
import { json, serveProject, type DoProject } from "./do-helpers.js";

const HEAD = `name = "mig"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\n`;

function binding(name: string, cls: string): string {
  return `[[durable_objects.bindings]]\nname = "${name}"\nclass_name = "${cls}"\n`;
}

const V1 = `[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Counter", "Other"]\n`;
const V2 = `[[migrations]]\ntag = "v2"\nrenamed_classes = [{ from = "Counter", to = "Tally" }]\n`;
const V3 = `[[migrations]]\ntag = "v3"\ndeleted_classes = ["Tally"]\n`;
const V4 = `[[migrations]]\ntag = "v4"\nnew_sqlite_classes = ["Tally"]\n`;

/** The worker with the counter class under `counterClass` (or none), and the untouched Other. */
function worker(counterClass: string | null): string {
  const body = `
  async add(n) {
    const total = ((await this.ctx.storage.get("total")) ?? 0) + n;
    await this.ctx.storage.put("total", total);
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (n INTEGER)");
    this.ctx.storage.sql.exec("INSERT INTO log VALUES (?)", n);
    return { total, rows: this.ctx.storage.sql.exec("SELECT count(*) AS c FROM log").one().c, id: this.ctx.id.toString() };
  }`;
  return `
import { DurableObject } from "cloudflare:workers";
${counterClass ? `export class ${counterClass} extends DurableObject {${body}\n}` : ""}
export class Other extends DurableObject {${body}\n}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const ns = url.pathname === "/other" ? env.OTHER : env.COUNTER;
    return Response.json(await ns.getByName("a").add(Number(url.searchParams.get("n") ?? 0)));
  },
};
`;
}

let p: DoProject;

function configure(toml: string, counterClass: string | null): void {
  writeFileSync(join(p.dir, "wrangler.toml"), toml);
  writeFileSync(join(p.dir, "src", "index.js"), worker(counterClass));
}

before(async () => {
  p = await serveProject({
    "wrangler.toml": HEAD + binding("COUNTER", "Counter") + binding("OTHER", "Other") + V1,
    "src/index.js": worker("Counter"),
  });
});

after(async () => {
  await p?.close();
});

async function add(path: string, n: number): Promise<{ total: number; rows: number; id: string }> {
  const r = await json(`${p.url}${path}?n=${n}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

describe("migrations across restarts", () => {
  test("renamed_classes keeps ids and data; deleted_classes removes the data of that class only", async () => {
    const before = await add("/counter", 5);
    assert.deepEqual({ total: before.total, rows: before.rows }, { total: 5, rows: 1 });
    assert.equal((await add("/other", 7)).total, 7);

    // v2: Counter is renamed to Tally; the binding follows the new name.
    configure(HEAD + binding("COUNTER", "Tally") + binding("OTHER", "Other") + V1 + V2, "Tally");
    await p.restart();
    const renamed = await add("/counter", 1);
    assert.equal(renamed.id, before.id, "ids minted before the rename are the same objects");
    assert.deepEqual({ total: renamed.total, rows: renamed.rows }, { total: 6, rows: 2 }, "KV and SQL data survived the rename");

    // v3: Tally is deleted (its binding removed first, as Cloudflare requires).
    configure(HEAD + binding("OTHER", "Other") + V1 + V2 + V3, null);
    await p.restart();
    assert.match(p.ledge.output(), /migrations delete class Tally: its stored objects were removed/);
    assert.equal((await add("/other", 1)).total, 8, "another class keeps its data");

    // v4: a new class under the deleted name starts empty.
    configure(HEAD + binding("COUNTER", "Tally") + binding("OTHER", "Other") + V1 + V2 + V3 + V4, "Tally");
    await p.restart();
    const recreated = await add("/counter", 1);
    assert.deepEqual({ total: recreated.total, rows: recreated.rows }, { total: 1, rows: 1 }, "the deleted class's data is gone");
  });
});

describe("the declarative exports form", () => {
  test("classes declared in exports work without migrations", async () => {
    const exportsToml =
      HEAD +
      binding("COUNTER", "Counter") +
      binding("OTHER", "Other") +
      `[exports.Counter]\ntype = "durable-object"\nstorage = "sqlite"\n\n[exports.Other]\ntype = "durable-object"\nstorage = "sqlite"\n`;
    const q = await serveProject({ "wrangler.toml": exportsToml, "src/index.js": worker("Counter") });
    try {
      const r = await json(`${q.url}/counter?n=3`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual({ total: r.body.total, rows: r.body.rows }, { total: 3, rows: 1 });
    } finally {
      await q.close();
    }
  });
});

describe("start-up errors", () => {
  async function startFails(toml: string, code: string): Promise<string> {
    const dir = writeProject({ "wrangler.toml": toml, "src/index.js": code });
    try {
      const r = await runLedge(["serve", dir, "--port", "0", "--persist-to", join(dir, "state")]);
      assert.equal(r.code, 1, `expected start-up to fail:\n${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stderr, /^\s+at /m, "a user mistake is reported without a stack");
      return r.stderr;
    } finally {
      removeDir(dir);
    }
  }

  test("a binding to a class that no migration declares", async () => {
    const stderr = await startFails(HEAD + binding("COUNTER", "Counter") + binding("OTHER", "Other") + `[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Other"]\n`, worker("Counter"));
    assert.match(stderr, /"Counter", which no migration declares/);
    assert.match(stderr, /new_sqlite_classes = \["Counter"\]/, "the message shows the fix");
  });

  test("migrations and exports together", async () => {
    const stderr = await startFails(HEAD + binding("OTHER", "Other") + V1 + `\n[exports.Other]\ntype = "durable-object"\n`, worker("Counter"));
    assert.match(stderr, /"migrations" and "exports" cannot both declare Durable Object classes/);
  });

  test("a declared class that the code does not export", async () => {
    const stderr = await startFails(HEAD + binding("COUNTER", "Counter") + binding("OTHER", "Other") + V1, worker(null));
    assert.match(stderr, /Durable Object class "Counter" is declared in the config but not exported by .*index\.js/);
  });
});
