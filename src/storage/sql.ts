/**
 * `ctx.storage.sql`: SQL against the object's own database, for SQLite-backed classes.
 *
 * `exec()` runs every statement of the query at once and buffers the last one's rows in the cursor.
 * workerd steps lazily, but better-sqlite3 refuses any other statement on the connection while a
 * lazy iterator is open, and a cursor the app never finishes would then block every later write
 * and the commit. Buffering costs memory for huge results; it keeps the connection always usable.
 */
import { Buffer } from "node:buffer";
import { types } from "node:util";
import type { CommitPipeline } from "./commit.js";
import type { Db, Statements, Stmt } from "./database.js";
import { SQL_MAX_BINDINGS, SQL_MAX_QUERY_BYTES, SQL_MAX_VALUE_BYTES } from "./limits.js";
import { parseQuery, type ParamPlan, type ParsedQuery } from "./sql-guard.js";

export type SqlStorageValue = ArrayBuffer | string | number | null;
type BindValue = null | number | bigint | string | Buffer;

/** Distinct query texts whose parse and prepared statements are kept. */
const CACHE_SIZE = 200;

export class SqlStorage {
  readonly #db: Db;
  readonly #stmts: Statements;
  readonly #pipeline: CommitPipeline;
  readonly #parsed = new Map<string, ParsedQuery>();
  readonly #prepared = new Map<string, Stmt>();

  constructor(db: Db, stmts: Statements, pipeline: CommitPipeline) {
    this.#db = db;
    this.#stmts = stmts;
    this.#pipeline = pipeline;
  }

  /**
   * Runs `query` (one or more `;`-separated statements); `bindings` fill the `?` parameters of the
   * last statement, whose rows the cursor returns.
   * @example sql.exec("SELECT * FROM msgs WHERE room = ? LIMIT 10", roomId).toArray()
   */
  exec<T extends Record<string, SqlStorageValue> = Record<string, SqlStorageValue>>(
    query: string,
    ...bindings: unknown[]
  ): SqlStorageCursor<T> {
    this.#pipeline.assertUsable();
    const text = String(query);
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > SQL_MAX_QUERY_BYTES) {
      throw new RangeError(`SQL statement too long: ${bytes} bytes; the limit is ${SQL_MAX_QUERY_BYTES} bytes.`);
    }
    if (bindings.length > SQL_MAX_BINDINGS) {
      throw new RangeError(
        `Too many SQL bound parameters: ${bindings.length}; the limit is ${SQL_MAX_BINDINGS} per statement.`,
      );
    }
    const values = bindings.map(toBindValue);
    const parsed = cached(this.#parsed, text, () => parseQuery(text));
    if (parsed.params.count !== values.length) {
      throw new RangeError(
        `Wrong number of parameter bindings for SQL query: it has ${parsed.params.count}, got ${values.length}.`,
      );
    }
    const args = bindArguments(parsed.params, values);
    const changesBefore = this.#stmts.totalChanges.get() as number;
    let columns: string[] = [];
    let rows: unknown[][] = [];
    this.#pipeline.guard(() => {
      parsed.statements.forEach((sql, index) => {
        const stmt = cached<Stmt>(this.#prepared, sql, () => this.#db.prepare(sql));
        const isLast = index === parsed.statements.length - 1;
        // Anything that may write (DML, DDL) joins the turn's implicit transaction first.
        if (!stmt.readonly) this.#pipeline.write(true, () => undefined);
        const stmtArgs: unknown[] = isLast ? args : [];
        if (stmt.reader) {
          const result = stmt.raw(true).all(...stmtArgs) as unknown[][];
          if (isLast) {
            rows = result;
            columns = stmt.columns().map((c) => c.name);
          }
        } else {
          stmt.run(...stmtArgs);
        }
      });
    });
    const rowsWritten = (this.#stmts.totalChanges.get() as number) - changesBefore;
    return new SqlStorageCursor<T>(columns, rows, rowsWritten);
  }

  /** Size of the database file in bytes. */
  get databaseSize(): number {
    this.#pipeline.assertUsable();
    return (this.#stmts.pageCount.get() as number) * (this.#stmts.pageSize.get() as number);
  }
}

export class SqlStorageCursor<T extends Record<string, SqlStorageValue> = Record<string, SqlStorageValue>>
  implements IterableIterator<T>
{
  readonly columnNames: string[];
  readonly #rows: unknown[][];
  readonly #rowsWritten: number;
  #position = 0;

  constructor(columnNames: string[], rows: unknown[][], rowsWritten: number) {
    this.columnNames = columnNames;
    this.#rows = rows;
    this.#rowsWritten = rowsWritten;
  }

  /**
   * Rows handed out so far. Cloudflare counts the rows SQLite scanned (a full-table COUNT(*) reads
   * every row); better-sqlite3 does not expose that counter, so Ledge reports rows returned.
   */
  get rowsRead(): number {
    return this.#position;
  }

  /** Rows inserted, updated or deleted by the query, including by triggers. */
  get rowsWritten(): number {
    return this.#rowsWritten;
  }

  next(): IteratorResult<T, undefined> {
    const row = this.#nextRaw();
    return row === null ? { done: true, value: undefined } : { done: false, value: this.#toObject(row) };
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let row = this.#nextRaw(); row !== null; row = this.#nextRaw()) out.push(this.#toObject(row));
    return out;
  }

  /** The only row; throws if the query returned none or more than one. */
  one(): T {
    const first = this.#nextRaw();
    if (first === null) throw new Error("Expected exactly one result from SQL query, but got no results.");
    if (this.#nextRaw() !== null) throw new Error("Expected exactly one result from SQL query, but got multiple results.");
    return this.#toObject(first);
  }

  /** The same rows as arrays of values; shares its position with the cursor. */
  raw<R extends SqlStorageValue[] = SqlStorageValue[]>(): RawCursor<R> {
    const nextRaw = (): R | null => this.#nextRaw() as R | null;
    const iterator: RawCursor<R> = {
      next: () => {
        const row = nextRaw();
        return row === null ? { done: true, value: undefined } : { done: false, value: row };
      },
      toArray: () => {
        const out: R[] = [];
        for (let row = nextRaw(); row !== null; row = nextRaw()) out.push(row);
        return out;
      },
      [Symbol.iterator]: () => iterator,
    };
    return iterator;
  }

  [Symbol.iterator](): this {
    return this;
  }

  #nextRaw(): SqlStorageValue[] | null {
    if (this.#position >= this.#rows.length) return null;
    const row = this.#rows[this.#position++]!;
    return row.map(toResultValue);
  }

  #toObject(row: SqlStorageValue[]): T {
    const out: Record<string, SqlStorageValue> = {};
    this.columnNames.forEach((name, i) => {
      out[name] = row[i] ?? null;
    });
    return out as T;
  }
}

export interface RawCursor<R> extends IterableIterator<R> {
  next(): IteratorResult<R, undefined>;
  toArray(): R[];
}

/**
 * Converts one binding. Cloudflare documents null, number, string and ArrayBuffer (or a view).
 * Beyond that we follow what workerd does rather than what might seem tidier: a boolean is bound
 * as the text "true"/"false" (workerd coerces it to a string; cloudflare/workers-sdk#9964), so
 * data written by an app on Cloudflare and on Ledge compares the same way. Other objects are
 * coerced with String() for the same reason. A bigint binds as an exact 64-bit INTEGER.
 */
function toBindValue(value: unknown): BindValue {
  if (value === null || value === undefined) return null;
  let bound: BindValue;
  switch (typeof value) {
    case "number":
    case "bigint":
      return value;
    case "string":
      bound = value;
      break;
    case "boolean":
      return value ? "true" : "false";
    case "symbol":
      throw new TypeError("A symbol cannot be bound to a SQL parameter.");
    default:
      if (types.isAnyArrayBuffer(value)) bound = Buffer.from(value);
      else if (ArrayBuffer.isView(value)) bound = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      else bound = String(value);
  }
  const size = typeof bound === "string" ? Buffer.byteLength(bound, "utf8") : (bound as Buffer).byteLength;
  if (size > SQL_MAX_VALUE_BYTES) {
    throw new RangeError(`A bound SQL value is ${size} bytes; the limit is ${SQL_MAX_VALUE_BYTES} bytes.`);
  }
  return bound;
}

function toResultValue(value: unknown): SqlStorageValue {
  if (value instanceof Uint8Array) {
    // better-sqlite3 returns BLOBs as Buffers; the Workers API returns ArrayBuffers.
    return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) as ArrayBuffer;
  }
  return value as SqlStorageValue;
}

/** better-sqlite3 binds `?` positionally and `?NNN`/named parameters from one object. */
function bindArguments(plan: ParamPlan, values: BindValue[]): unknown[] {
  const args: unknown[] = plan.anonymous.map((n) => values[n - 1]);
  if (plan.keyed.length > 0) {
    const named: Record<string, BindValue> = {};
    for (const [key, n] of plan.keyed) named[key] = values[n - 1] ?? null;
    args.push(named);
  }
  return args;
}

function cached<V>(cache: Map<string, V>, key: string, make: () => V): V {
  let value = cache.get(key);
  if (value !== undefined) {
    // Re-insert so the map's order is least recently used first.
    cache.delete(key);
  } else {
    value = make();
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  }
  cache.set(key, value);
  return value;
}
