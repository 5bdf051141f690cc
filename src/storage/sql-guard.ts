/**
 * What user SQL may do, decided before SQLite sees it. better-sqlite3 exposes no authorizer hook,
 * so a small tokenizer (it understands string literals, quoted identifiers, comments and
 * parameters, nothing more) finds the statements, their first keyword, the identifiers they name
 * and their parameters. It rejects:
 * - transaction control (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE): transactions belong to
 *   the storage API, which coalesces writes and nests with savepoints;
 * - ATTACH/DETACH (other files) and VACUUM (rewrites the file under the commit pipeline);
 * - PRAGMAs outside a short read-only allow-list (journal mode, synchronous and checkpoints are
 *   Ledge's);
 * - any identifier starting with `_cf_`, the hidden tables behind the KV API and alarms. SQLite also
 *   accepts a 'single-quoted' name where only an identifier fits, so a string literal that looks
 *   like such a name is rejected too. Column names with that prefix are therefore refused as well,
 *   a small price for not parsing SQL.
 */
import { LedgeError } from "../shared/errors.js";

type TokenKind = "word" | "quoted" | "string" | "blob" | "number" | "param" | "semi" | "punct";

interface Token {
  kind: TokenKind;
  start: number;
  end: number;
  /** Identifier name without quotes, string content without quotes, or the token text. */
  value: string;
}

export interface ParsedQuery {
  /** The statements in order, without their trailing semicolons; empty ones are dropped. */
  statements: string[];
  /** How the caller's bindings map onto the last statement's parameters. */
  params: ParamPlan;
}

/** SQLite numbers parameters: `?` takes the next number, `?NNN` its own, a name keeps its first. */
export interface ParamPlan {
  count: number;
  /** Numbers of the anonymous `?` parameters, in order (better-sqlite3 binds them positionally). */
  anonymous: number[];
  /** better-sqlite3 keys (`?3` → "3", `:name` → "name") and their numbers. */
  keyed: [string, number][];
}

const TRANSACTION_KEYWORDS = new Set(["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"]);

/**
 * Allowed pragmas. "args": may take an argument that names a table or a count (`table_info(t)`);
 * "bare": query only (an argument would change a setting); "settable": harmless, transaction-scoped.
 */
const PRAGMAS: Record<string, "args" | "bare" | "settable"> = {
  table_info: "args",
  table_xinfo: "args",
  table_list: "args",
  index_list: "args",
  index_info: "args",
  index_xinfo: "args",
  foreign_key_list: "args",
  foreign_key_check: "args",
  quick_check: "args",
  integrity_check: "args",
  optimize: "args",
  foreign_keys: "bare",
  page_count: "bare",
  freelist_count: "bare",
  data_version: "bare",
  defer_foreign_keys: "settable",
};

export function parseQuery(sql: string): ParsedQuery {
  const statements: Token[][] = [];
  const tokens = tokenize(sql);
  let from = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]!.kind !== "semi") continue;
    const stmt = tokens.slice(from, i);
    // Inside CREATE TRIGGER ... BEGIN ... END the body's semicolons do not end the statement;
    // like sqlite3_complete(), the statement ends at a semicolon that follows "; END".
    if (isTrigger(stmt) && !endsTriggerBody(stmt)) continue;
    if (stmt.length > 0) statements.push(stmt);
    from = i + 1;
  }
  if (from < tokens.length) statements.push(tokens.slice(from));
  for (const stmt of statements) checkStatement(stmt);
  const last = statements[statements.length - 1] ?? [];
  return {
    statements: statements.map((stmt) => sql.slice(stmt[0]!.start, stmt[stmt.length - 1]!.end)),
    params: planParams(last),
  };
}

function checkStatement(tokens: Token[]): void {
  let i = 0;
  // EXPLAIN [QUERY PLAN] only describes the statement that follows; judge that one.
  if (keyword(tokens[i]) === "EXPLAIN") {
    i++;
    if (keyword(tokens[i]) === "QUERY" && keyword(tokens[i + 1]) === "PLAN") i += 2;
  }
  const first = keyword(tokens[i]);
  if (TRANSACTION_KEYWORDS.has(first)) {
    throw new LedgeError(
      "LEDGE_SQL_TRANSACTION_STATEMENT",
      `${first} is not allowed in ctx.storage.sql.exec(): use ctx.storage.transactionSync() or ` +
        "ctx.storage.transaction() instead of BEGIN/COMMIT/ROLLBACK/SAVEPOINT. They roll back " +
        "automatically when the callback throws and work with the automatic coalescing of writes.",
    );
  }
  if (first === "ATTACH" || first === "DETACH") {
    throw new LedgeError("LEDGE_SQL_FORBIDDEN", `${first} is not allowed: a Durable Object can only use its own database.`);
  }
  if (first === "VACUUM") {
    throw new LedgeError("LEDGE_SQL_FORBIDDEN", "VACUUM is not allowed in Durable Object SQL.");
  }
  if (first === "PRAGMA") checkPragma(tokens.slice(i + 1));
  for (const token of tokens) {
    const named = token.kind === "word" || token.kind === "quoted";
    const nameLike = token.kind === "string" && /^_cf_\w*$/i.test(token.value);
    if ((named && /^_cf_/i.test(token.value)) || nameLike) {
      throw new LedgeError(
        "LEDGE_SQL_RESERVED_NAME",
        `Access to "${token.value}" is not allowed: names starting with _cf_ are reserved for the ` +
          "Durable Object's internal tables (use ctx.storage.get()/put() for the key-value data).",
      );
    }
  }
}

function checkPragma(tokens: Token[]): void {
  let nameAt = 0;
  if (tokens[1]?.value === ".") nameAt = 2; // schema-qualified: PRAGMA main.table_info(t)
  const name = (tokens[nameAt]?.value ?? "").toLowerCase();
  const rule = PRAGMAS[name];
  const next = tokens[nameAt + 1]?.value;
  const hasArgument = next === "=" || next === "(";
  if (rule === undefined || (rule === "bare" && hasArgument)) {
    const allowed = Object.keys(PRAGMAS).join(", ");
    throw new LedgeError(
      "LEDGE_SQL_FORBIDDEN",
      `PRAGMA ${name}${hasArgument ? " with a value" : ""} is not allowed in Durable Object SQL; ` +
        `allowed: ${allowed} (foreign_keys, page_count, freelist_count and data_version without a value).`,
    );
  }
}

function planParams(tokens: Token[]): ParamPlan {
  let count = 0;
  const names = new Map<string, number>();
  const anonymous: number[] = [];
  const keyed: [string, number][] = [];
  for (const token of tokens) {
    if (token.kind !== "param") continue;
    const text = token.value;
    if (text === "?") {
      anonymous.push(++count);
    } else if (text.startsWith("?")) {
      const n = Number(text.slice(1));
      count = Math.max(count, n);
      keyed.push([text.slice(1), n]);
    } else {
      let n = names.get(text);
      if (n === undefined) {
        n = ++count;
        names.set(text, n);
      }
      keyed.push([text.slice(1), n]);
    }
  }
  return { count, anonymous, keyed };
}

function isTrigger(tokens: Token[]): boolean {
  let i = keyword(tokens[0]) === "EXPLAIN" ? 1 : 0;
  if (keyword(tokens[i]) !== "CREATE") return false;
  i++;
  if (keyword(tokens[i]) === "TEMP" || keyword(tokens[i]) === "TEMPORARY") i++;
  return keyword(tokens[i]) === "TRIGGER";
}

function endsTriggerBody(tokens: Token[]): boolean {
  const n = tokens.length;
  return n >= 2 && keyword(tokens[n - 1]) === "END" && tokens[n - 2]!.kind === "semi";
}

function keyword(token: Token | undefined): string {
  return token?.kind === "word" ? token.value.toUpperCase() : "";
}

function isIdentStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code >= 0x80;
}

function isIdentPart(code: number): boolean {
  return isIdentStart(code) || (code >= 48 && code <= 57) || code === 36;
}

function isDigit(code: number | undefined): boolean {
  return code !== undefined && code >= 48 && code <= 57;
}

/** Splits SQL into tokens, dropping whitespace and comments. */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value = sql.slice(start, end)): void => {
    tokens.push({ kind, start, end, value });
  };
  // Reads a quoted run where the closing quote is escaped by doubling it; returns the end index.
  const quoted = (start: number, close: string): number => {
    let j = start + 1;
    while (j < n) {
      if (sql[j] === close) {
        if (close !== "]" && sql[j + 1] === close) j += 2;
        else return j + 1;
      } else j++;
    }
    return n;
  };
  const unquote = (start: number, end: number, close: string): string =>
    sql.slice(start + 1, sql[end - 1] === close ? end - 1 : end).split(close + close).join(close);
  while (i < n) {
    const c = sql[i]!;
    const code = sql.charCodeAt(i);
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      const eol = sql.indexOf("\n", i);
      i = eol === -1 ? n : eol + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close === -1 ? n : close + 2;
    } else if (c === "'") {
      const end = quoted(i, "'");
      push("string", i, end, unquote(i, end, "'"));
      i = end;
    } else if (c === '"' || c === "`") {
      const end = quoted(i, c);
      push("quoted", i, end, unquote(i, end, c));
      i = end;
    } else if (c === "[") {
      const end = quoted(i, "]");
      push("quoted", i, end, sql.slice(i + 1, sql[end - 1] === "]" ? end - 1 : end));
      i = end;
    } else if ((c === "x" || c === "X") && sql[i + 1] === "'") {
      const end = quoted(i + 1, "'");
      push("blob", i, end);
      i = end;
    } else if (isDigit(code) || (c === "." && isDigit(sql.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < n && (isIdentPart(sql.charCodeAt(j)) || sql[j] === ".")) {
        const e = sql[j] === "e" || sql[j] === "E";
        j += e && (sql[j + 1] === "+" || sql[j + 1] === "-") ? 2 : 1;
      }
      push("number", i, j);
      i = j;
    } else if (isIdentStart(code)) {
      let j = i + 1;
      while (j < n && isIdentPart(sql.charCodeAt(j))) j++;
      push("word", i, j);
      i = j;
    } else if (c === "?") {
      let j = i + 1;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      push("param", i, j);
      i = j;
    } else if ((c === ":" || c === "@" || c === "$") && i + 1 < n && isIdentPart(sql.charCodeAt(i + 1))) {
      let j = i + 1;
      while (j < n && isIdentPart(sql.charCodeAt(j))) j++;
      push("param", i, j);
      i = j;
    } else if (c === ";") {
      push("semi", i, i + 1);
      i++;
    } else {
      push("punct", i, i + 1);
      i++;
    }
  }
  return tokens;
}
