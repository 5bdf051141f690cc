import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ObjectStorage } from "../../src/storage/index.js";
import { storageFixture } from "../helpers/storage.js";
import { parseQuery } from "../../src/storage/internal.js";

const fixture = storageFixture("ledge-storage-sql-");
const open = fixture.open;

function withTable(): ObjectStorage {
  const s = open();
  s.sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB)");
  s.sql.exec("INSERT INTO t (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three')");
  return s;
}

describe("cursor", () => {
  test("iterates rows as objects and exposes columnNames", () => {
    const s = withTable();
    const cursor = s.sql.exec("SELECT id, name FROM t ORDER BY id");
    assert.deepEqual(cursor.columnNames, ["id", "name"]);
    assert.deepEqual([...cursor], [
      { id: 1, name: "one" },
      { id: 2, name: "two" },
      { id: 3, name: "three" },
    ]);
    assert.deepEqual(cursor.next(), { done: true, value: undefined });
  });

  test("next() and toArray() share one position", () => {
    const s = withTable();
    const cursor = s.sql.exec("SELECT id FROM t ORDER BY id");
    assert.deepEqual(cursor.next(), { done: false, value: { id: 1 } });
    assert.deepEqual(cursor.toArray(), [{ id: 2 }, { id: 3 }]);
    assert.deepEqual(cursor.toArray(), []);
  });

  test("raw() yields arrays and shares its position with the cursor", () => {
    const s = withTable();
    const cursor = s.sql.exec("SELECT id, name FROM t ORDER BY id");
    const raw = cursor.raw();
    assert.deepEqual(raw.next(), { done: false, value: [1, "one"] });
    assert.deepEqual(cursor.next(), { done: false, value: { id: 2, name: "two" } });
    assert.deepEqual(raw.toArray(), [[3, "three"]]);
    assert.equal(cursor.next().done, true);
    assert.deepEqual([...s.sql.exec("SELECT id FROM t WHERE id < 3 ORDER BY id").raw()], [[1], [2]]);
  });

  test("one() returns the single row and throws on zero or two rows", () => {
    const s = withTable();
    assert.deepEqual(s.sql.exec("SELECT name FROM t WHERE id = ?", 2).one(), { name: "two" });
    assert.throws(() => s.sql.exec("SELECT name FROM t WHERE id = 99").one(), /got no results/);
    assert.throws(() => s.sql.exec("SELECT name FROM t WHERE id < 3").one(), /multiple results/);
  });

  test("rowsWritten counts changed rows; rowsRead grows as rows are consumed", () => {
    const s = withTable();
    assert.equal(s.sql.exec("UPDATE t SET name = upper(name) WHERE id >= 2").rowsWritten, 2);
    assert.equal(s.sql.exec("INSERT INTO t (id) VALUES (10), (11), (12)").rowsWritten, 3);
    const cursor = s.sql.exec("SELECT id FROM t");
    assert.equal(cursor.rowsWritten, 0);
    assert.equal(cursor.rowsRead, 0);
    cursor.next();
    assert.equal(cursor.rowsRead, 1);
    cursor.toArray();
    assert.equal(cursor.rowsRead, 6);
  });

  test("INSERT ... RETURNING returns rows and counts the write", () => {
    const s = withTable();
    const cursor = s.sql.exec("INSERT INTO t (id, name) VALUES (?, ?) RETURNING id, name", 20, "twenty");
    assert.deepEqual(cursor.toArray(), [{ id: 20, name: "twenty" }]);
    assert.equal(cursor.rowsWritten, 1);
  });

  test("a statement without results, or a query of only comments, gives an empty cursor", () => {
    const s = open();
    const cursor = s.sql.exec("CREATE TABLE x (a);");
    assert.deepEqual(cursor.columnNames, []);
    assert.deepEqual(cursor.toArray(), []);
    assert.deepEqual(s.sql.exec("  -- nothing to do\n ; ").toArray(), []);
    assert.deepEqual(s.sql.exec("SELECT count(*) AS n FROM x;").one(), { n: 0 });
  });
});

describe("bindings and values", () => {
  test("null, numbers, strings and bytes round-trip; BLOBs come back as ArrayBuffer", () => {
    const s = withTable();
    s.sql.exec("INSERT INTO t (id, name, data) VALUES (?, ?, ?)", 4, null, new Uint8Array([1, 2, 3]));
    s.sql.exec("INSERT INTO t (id, name, data) VALUES (?, ?, ?)", 5, "é", new Uint8Array([7, 8, 9]).buffer);
    const rows = s.sql.exec("SELECT id, name, data FROM t WHERE id >= 4 ORDER BY id").toArray();
    assert.equal(rows[0]!.name, null);
    assert.ok(rows[0]!.data instanceof ArrayBuffer);
    assert.deepEqual(new Uint8Array(rows[0]!.data as ArrayBuffer), new Uint8Array([1, 2, 3]));
    assert.equal(rows[1]!.name, "é");
    assert.deepEqual(new Uint8Array(rows[1]!.data as ArrayBuffer), new Uint8Array([7, 8, 9]));
    assert.equal(s.sql.exec("SELECT 1.5 AS x").one().x, 1.5);
  });

  test("a view binds only its own bytes, not the whole underlying buffer", () => {
    const s = open();
    const backing = new Uint8Array([0, 1, 2, 3, 4, 5]);
    const row = s.sql.exec("SELECT length(?) AS n", backing.subarray(2, 4)).one();
    assert.equal(row.n, 2);
  });

  test("booleans bind as the text 'true'/'false' like workerd; bigints as exact integers", () => {
    const s = open();
    assert.deepEqual(s.sql.exec("SELECT ? AS t, typeof(?) AS type", true, false).one(), { t: "true", type: "text" });
    assert.deepEqual(s.sql.exec("SELECT ? = 9007199254740993 AS exact", 9007199254740993n).one(), { exact: 1 });
  });

  test("numbered and named parameters map positionally like sqlite3_bind", () => {
    const s = open();
    assert.deepEqual(s.sql.exec("SELECT ?2 AS a, ?1 AS b", "one", "two").one(), { a: "two", b: "one" });
    assert.deepEqual(s.sql.exec("SELECT :x AS a, :y AS b, :x AS c", 1, 2).one(), { a: 1, b: 2, c: 1 });
  });

  test("the wrong number of bindings is an error", () => {
    const s = open();
    assert.throws(() => s.sql.exec("SELECT ? AS a", 1, 2), /Wrong number of parameter bindings/);
    assert.throws(() => s.sql.exec("SELECT ? AS a"), /Wrong number of parameter bindings/);
  });

  test("100 bound parameters are fine, 101 is an error naming the limit", () => {
    const s = open();
    const marks = (count: number) => Array.from({ length: count }, () => "?").join(", ");
    const values = (count: number) => Array.from({ length: count }, (_, i) => i);
    assert.equal(s.sql.exec(`SELECT ${marks(100)}`, ...values(100)).raw().toArray()[0]!.length, 100);
    assert.throws(() => s.sql.exec(`SELECT ${marks(101)}`, ...values(101)), /limit is 100/);
  });

  test("a statement over 100 KB is an error naming the limit", () => {
    const s = open();
    const padding = " ".repeat(100_000);
    assert.throws(() => s.sql.exec(`SELECT 1${padding}`), /limit is 100000 bytes/);
  });
});

describe("multiple statements", () => {
  test("all statements run; bindings apply to the last; the cursor is the last one's", () => {
    const s = open();
    const cursor = s.sql.exec(
      "CREATE TABLE m (v TEXT); INSERT INTO m VALUES ('a'); INSERT INTO m VALUES ('b'); SELECT v FROM m WHERE v = ?;",
      "b",
    );
    assert.deepEqual(cursor.toArray(), [{ v: "b" }]);
    assert.equal(cursor.rowsWritten, 2);
    assert.equal(s.sql.exec("SELECT count(*) AS n FROM m").one().n, 2);
  });

  test("semicolons inside strings, comments and trigger bodies do not split statements", () => {
    const s = open();
    s.sql.exec(`
      CREATE TABLE log (msg TEXT);
      CREATE TABLE item (name TEXT);
      -- a comment; with a semicolon
      CREATE TRIGGER item_log AFTER INSERT ON item BEGIN
        INSERT INTO log VALUES ('added; ' || CASE WHEN new.name = 'x' THEN 'x' ELSE 'other' END);
      END;
      INSERT INTO item VALUES ('x; y');
    `);
    assert.deepEqual(s.sql.exec("SELECT msg FROM log").toArray(), [{ msg: "added; other" }]);
    assert.deepEqual(s.sql.exec("SELECT name FROM item /* ; */").toArray(), [{ name: "x; y" }]);
  });

  test("the parser reports statements and parameter plans", () => {
    const parsed = parseQuery("SELECT 1; ; SELECT ?, :name, ?5 -- tail ;\n");
    assert.deepEqual(parsed.statements, ["SELECT 1", "SELECT ?, :name, ?5"]);
    assert.deepEqual(parsed.params, { count: 5, anonymous: [1], keyed: [["name", 2], ["5", 5]] });
  });
});

describe("what user SQL may not do", () => {
  test("transaction statements are rejected with a pointer to transactionSync()", () => {
    const s = open();
    for (const sql of ["BEGIN", "begin transaction", "COMMIT", "END", "ROLLBACK", "SAVEPOINT x", "RELEASE x", "SELECT 1; BEGIN"]) {
      assert.throws(() => s.sql.exec(sql), { code: "LEDGE_SQL_TRANSACTION_STATEMENT", message: /transactionSync\(\)/ }, sql);
    }
  });

  test("ATTACH, DETACH and VACUUM are rejected", () => {
    const s = open();
    assert.throws(() => s.sql.exec("ATTACH DATABASE '/tmp/x.db' AS other"), { code: "LEDGE_SQL_FORBIDDEN" });
    assert.throws(() => s.sql.exec("DETACH other"), { code: "LEDGE_SQL_FORBIDDEN" });
    assert.throws(() => s.sql.exec("VACUUM"), { code: "LEDGE_SQL_FORBIDDEN" });
  });

  test("only allow-listed PRAGMAs run", () => {
    const s = withTable();
    assert.deepEqual(
      s.sql.exec("PRAGMA table_info(t)").toArray().map((r) => r.name),
      ["id", "name", "data"],
    );
    assert.equal(s.sql.exec("PRAGMA foreign_keys").one().foreign_keys, 1);
    assert.equal(s.sql.exec("PRAGMA quick_check").one().quick_check, "ok");
    for (const sql of ["PRAGMA journal_mode = DELETE", "PRAGMA synchronous=OFF", "PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys(0)", "PRAGMA writable_schema = 1"]) {
      assert.throws(() => s.sql.exec(sql), { code: "LEDGE_SQL_FORBIDDEN" }, sql);
    }
    assert.equal(s.sql.exec("PRAGMA foreign_keys").one().foreign_keys, 1, "still on");
  });

  test("tables named _cf_* cannot be read, written, created or dropped in any spelling", async () => {
    const s = open();
    await s.put("secret", "v");
    const attempts = [
      "SELECT * FROM _cf_KV",
      'SELECT * FROM "_cf_KV"',
      "SELECT * FROM main.[_cf_KV]",
      "SELECT * FROM `_CF_kv`",
      "SELECT * FROM '_cf_KV'",
      "DELETE FROM _cf_METADATA",
      "INSERT INTO _cf_KV VALUES ('k', x'00')",
      "DROP TABLE _cf_KV",
      "CREATE TABLE _cf_mine (a)",
      "CREATE VIEW v AS SELECT * FROM _cf_KV",
    ];
    for (const sql of attempts) {
      assert.throws(() => s.sql.exec(sql), { code: "LEDGE_SQL_RESERVED_NAME" }, sql);
    }
    assert.equal(await s.get("secret"), "v");
  });

  test("the reserved prefix inside ordinary string literals and comments is fine", () => {
    const s = open();
    assert.equal(s.sql.exec("SELECT 'a _cf_KV b' AS v /* _cf_KV */").one().v, "a _cf_KV b");
    // The hidden table may be seen in the schema, as on Cloudflare, but not opened.
    const names = s.sql.exec("SELECT name FROM sqlite_schema WHERE type = 'table'").toArray().map((r) => r.name);
    assert.ok(names.includes("_cf_KV"));
  });
});

describe("databaseSize, sync KV API and storage kinds", () => {
  test("databaseSize is the file size in pages and grows with data", () => {
    const s = open();
    const before = s.sql.databaseSize;
    assert.ok(before > 0 && before % 4096 === 0);
    s.sql.exec("CREATE TABLE big (b BLOB)");
    s.sql.exec("INSERT INTO big VALUES (zeroblob(100000))");
    assert.ok(s.sql.databaseSize >= before + 100_000);
  });

  test("ctx.storage.kv reads and writes the same data as the async API", async () => {
    const s = open();
    s.kv.put("a", { n: 1 });
    s.kv.put("b", 2);
    assert.deepEqual(await s.get("a"), { n: 1 });
    await s.put("c", 3);
    assert.equal(s.kv.get("c"), 3);
    assert.equal(s.kv.get("missing"), undefined);
    assert.equal(s.kv.delete("c"), true);
    assert.equal(s.kv.delete("c"), false);
    assert.deepEqual([...s.kv.list()], [
      ["a", { n: 1 }],
      ["b", 2],
    ]);
    assert.deepEqual([...s.kv.list({ reverse: true, limit: 1 })], [["b", 2]]);
  });

  test("KV-backed classes have no sql, kv or transactionSync, with a message naming new_sqlite_classes", async () => {
    const s = open({ storageKind: "kv" });
    assert.throws(() => s.sql, { code: "LEDGE_STORAGE_NOT_SQLITE", message: /new_sqlite_classes/ });
    assert.throws(() => s.kv, { code: "LEDGE_STORAGE_NOT_SQLITE" });
    assert.throws(() => s.transactionSync(() => 1), { code: "LEDGE_STORAGE_NOT_SQLITE" });
    await s.put("still", "works");
    assert.equal(await s.get("still"), "works");
  });

  test("point-in-time recovery reports that it is not supported", async () => {
    const s = open();
    await assert.rejects(s.getCurrentBookmark(), { code: "LEDGE_NOT_SUPPORTED" });
  });
});
