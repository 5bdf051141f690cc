/**
 * The SQL API of Durable Objects through the real CLI: `ctx.storage.sql.exec` and its cursor
 * (`toArray`, `one`, `raw`, `next`, iteration, `columnNames`, `rowsRead`, `rowsWritten`),
 * multi-statement queries, value types, `sql.databaseSize`, statements Cloudflare forbids, the
 * hidden `_cf_` tables, `transactionSync` rollback, and the clear error of a KV-backed class.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { json, serveProject, wranglerToml, type DoProject } from "./do-helpers.js";

const WORKER = `
import { DurableObject } from "cloudflare:workers";

function caught(fn) {
  try {
    const v = fn();
    return { ok: v === undefined ? null : v };
  } catch (e) {
    return { error: e.name, message: e.message };
  }
}

export class Db extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, data BLOB)");
  }
  async run(name) {
    return this[name]();
  }

  cursor() {
    const sql = this.ctx.storage.sql;
    const insert = sql.exec("INSERT INTO items (id, name, score) VALUES (1, 'one', 1.5), (2, 'two', 2.5), (3, 'three', NULL)");
    const c = sql.exec("SELECT id, name, score FROM items ORDER BY id");
    const columnNames = c.columnNames;
    const rows = c.toArray();
    const iterated = [];
    for (const row of sql.exec("SELECT name FROM items ORDER BY id")) iterated.push(row.name);
    const raw = [...sql.exec("SELECT id, name FROM items ORDER BY id").raw()];
    const shared = sql.exec("SELECT id FROM items ORDER BY id");
    const first = shared.next().value;
    const restRaw = [...shared.raw()];
    const afterEnd = shared.next();
    const counted = sql.exec("SELECT count(*) AS n FROM items");
    const n = counted.one().n;
    const read = sql.exec("SELECT * FROM items");
    read.toArray();
    return {
      insertWritten: insert.rowsWritten,
      columnNames,
      rows,
      iterated,
      raw,
      first,
      restRaw,
      afterEndDone: afterEnd.done,
      n,
      rowsRead: read.rowsRead,
      oneOfNone: caught(() => sql.exec("SELECT * FROM items WHERE id = 99").one()),
      oneOfMany: caught(() => sql.exec("SELECT * FROM items").one()),
    };
  }

  statements() {
    const sql = this.ctx.storage.sql;
    const multi = sql
      .exec("INSERT INTO items (id, name) VALUES (10, 'ten'); UPDATE items SET score = 10 WHERE id = 10; SELECT name, score FROM items WHERE id = ?", 10)
      .toArray();
    const bytes = new Uint8Array([0, 1, 254, 255]);
    sql.exec("INSERT INTO items (id, name, data) VALUES (?, ?, ?)", 11, "blob", bytes.buffer);
    const blob = sql.exec("SELECT data FROM items WHERE id = 11").one().data;
    const types = sql.exec("SELECT 42 AS i, 1.25 AS f, 'text' AS s, NULL AS n, x'0102' AS b").one();
    const sizeBefore = sql.databaseSize;
    for (let i = 0; i < 200; i++) sql.exec("INSERT INTO items (name, data) VALUES (?, zeroblob(1000))", "filler" + i);
    const sizeAfter = sql.databaseSize;
    return {
      multi,
      blob: blob instanceof ArrayBuffer ? [...new Uint8Array(blob)] : "not an ArrayBuffer",
      types: { i: types.i, f: types.f, s: types.s, n: types.n, b: types.b instanceof ArrayBuffer ? [...new Uint8Array(types.b)] : "not an ArrayBuffer" },
      sizeBefore,
      sizeGrew: sizeAfter > sizeBefore,
      tooManyBindings: caught(() => sql.exec("SELECT " + Array(101).fill("?").join(", "), ...Array(101).fill(1))),
      wrongBindingCount: caught(() => sql.exec("SELECT ?, ?", 1)),
      syntax: caught(() => sql.exec("SELEC nonsense")),
    };
  }

  forbidden() {
    const sql = this.ctx.storage.sql;
    const out = {};
    const queries = {
      begin: "BEGIN",
      beginTransaction: "BEGIN TRANSACTION",
      commit: "COMMIT",
      rollback: "ROLLBACK",
      savepoint: "SAVEPOINT s1",
      attach: "ATTACH DATABASE '/tmp/other.sqlite' AS other",
      journalMode: "PRAGMA journal_mode = DELETE",
      hiddenKv: "SELECT * FROM _cf_KV",
      hiddenQuoted: 'SELECT * FROM "_cf_METADATA"',
      hiddenInMulti: "SELECT 1; DELETE FROM _cf_KV",
    };
    for (const [k, q] of Object.entries(queries)) out[k] = caught(() => sql.exec(q).toArray());
    out.stillUsable = sql.exec("SELECT count(*) AS n FROM items").one().n >= 0;
    return out;
  }

  transactionSyncRollback() {
    const sql = this.ctx.storage.sql;
    const thrown = caught(() =>
      this.ctx.storage.transactionSync(() => {
        sql.exec("INSERT INTO items (id, name) VALUES (500, 'doomed')");
        throw new Error("roll it back");
      }),
    );
    const kept = this.ctx.storage.transactionSync(() => {
      sql.exec("INSERT INTO items (id, name) VALUES (501, 'kept')");
      return sql.exec("SELECT name FROM items WHERE id = 501").one().name;
    });
    return { thrown, kept, doomed: sql.exec("SELECT count(*) AS n FROM items WHERE id = 500").one().n };
  }

  count() {
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM items WHERE id < 100").one().n;
  }
}

export class Legacy extends DurableObject {
  run() {
    return caught(() => this.ctx.storage.sql.exec("SELECT 1").toArray());
  }
}

export default {
  async fetch(request, env) {
    const [, cls, name, scenario] = new URL(request.url).pathname.split("/");
    try {
      const ns = cls === "legacy" ? env.LEGACY : env.DB;
      return Response.json(await ns.getByName(name).run(scenario));
    } catch (e) {
      return Response.json({ thrown: e.name, message: e.message }, { status: 500 });
    }
  },
};
`;

let p: DoProject;

before(async () => {
  p = await serveProject({ "wrangler.toml": wranglerToml({ classes: ["Db"], kvClasses: ["Legacy"] }), "src/index.js": WORKER });
});

after(async () => {
  await p?.close();
});

async function run(path: string): Promise<any> {
  const { status, body } = await json(`${p.url}${path}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

describe("Durable Object SQL API", () => {
  test("the cursor: toArray, iteration, raw, next (sharing one position), one, columnNames, rowsRead, rowsWritten", async () => {
    const r = await run("/db/cursor/cursor");
    assert.equal(r.insertWritten, 3);
    assert.deepEqual(r.columnNames, ["id", "name", "score"]);
    assert.deepEqual(r.rows, [
      { id: 1, name: "one", score: 1.5 },
      { id: 2, name: "two", score: 2.5 },
      { id: 3, name: "three", score: null },
    ]);
    assert.deepEqual(r.iterated, ["one", "two", "three"]);
    assert.deepEqual(r.raw, [
      [1, "one"],
      [2, "two"],
      [3, "three"],
    ]);
    assert.deepEqual(r.first, { id: 1 });
    assert.deepEqual(r.restRaw, [[2], [3]], "raw() continues where the row iterator stopped");
    assert.equal(r.afterEndDone, true);
    assert.equal(r.n, 3);
    assert.equal(r.rowsRead, 3);
    assert.ok(r.oneOfNone.error, "one() of no rows throws");
    assert.ok(r.oneOfMany.error, "one() of several rows throws");
  });

  test("multi-statement queries bind the last statement; values keep their types; databaseSize grows", async () => {
    const r = await run("/db/types/statements");
    assert.deepEqual(r.multi, [{ name: "ten", score: 10 }]);
    assert.deepEqual(r.blob, [0, 1, 254, 255]);
    assert.deepEqual(r.types, { i: 42, f: 1.25, s: "text", n: null, b: [1, 2] });
    assert.ok(r.sizeBefore > 0);
    assert.equal(r.sizeGrew, true);
    assert.equal(r.tooManyBindings.error, "RangeError");
    assert.ok(r.wrongBindingCount.error);
    assert.ok(r.syntax.error);
    assert.match(r.syntax.message, /syntax error/);
  });

  test("transaction control, ATTACH, settings pragmas and the hidden _cf_ tables are refused", async () => {
    const r = await run("/db/forbidden/forbidden");
    for (const k of ["begin", "beginTransaction", "commit", "rollback", "savepoint"]) {
      assert.ok(r[k].error, `${k} should be refused`);
      assert.match(r[k].message, /transaction\(\)|transactionSync\(\)/, `${k}: the message points at the storage API`);
    }
    for (const k of ["attach", "journalMode", "hiddenKv", "hiddenQuoted", "hiddenInMulti"]) {
      assert.ok(r[k].error, `${k} should be refused: ${JSON.stringify(r[k])}`);
    }
    assert.match(r.hiddenKv.message, /_cf_/);
    assert.equal(r.stillUsable, true);
  });

  test("transactionSync rolls back when its callback throws and returns its value otherwise", async () => {
    const r = await run("/db/txn/transactionSyncRollback");
    assert.deepEqual(r.thrown, { error: "Error", message: "roll it back" });
    assert.equal(r.kept, "kept");
    assert.equal(r.doomed, 0);
  });

  test("tables and rows persist between requests and objects are separate databases", async () => {
    await run("/db/persist/cursor");
    assert.equal(await run("/db/persist/count"), 3);
    assert.equal(await run("/db/other/count"), 0);
  });

  test("a KV-backed class gets a clear error from ctx.storage.sql", async () => {
    const r = await run("/legacy/x/run");
    assert.match(r.message, /only available to SQLite-backed Durable Object classes/);
  });
});
