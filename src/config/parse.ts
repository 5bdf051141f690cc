import path from "node:path";
import { createScanner, parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import { parse as parseToml, TomlDate, TomlError } from "smol-toml";
import { displayPath, type ConfigFormat } from "./internal.js";
import { ConfigError } from "./types.js";

/** The format of a config file, from its extension. */
export function formatOf(file: string): ConfigFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".toml") return "toml";
  if (ext === ".json" || ext === ".jsonc") return "json";
  throw new ConfigError(
    `${displayPath(file)}: unsupported config file type "${ext || "(none)"}"; expected wrangler.toml, wrangler.json or wrangler.jsonc.`,
    file,
  );
}

/**
 * Parses the text of a config file into plain JavaScript values. Syntax errors become a ConfigError
 * that names the file, the line and the column, and shows the offending line.
 */
export function parseConfigText(text: string, file: string): unknown {
  return formatOf(file) === "toml" ? parseTomlText(text, file) : parseJsonText(text, file);
}

/**
 * How deeply lists and tables may nest. A wrangler config needs a handful of levels (a JSON var
 * holding a small document a few more); the bound keeps a hostile or generated file from
 * exhausting the stack of the parsers and of everything that walks the result.
 */
export const MAX_NESTING = 100;
const TOO_DEEP = `values are nested more than ${MAX_NESTING} levels deep`;

function parseTomlText(text: string, file: string): unknown {
  let parsed: unknown;
  try {
    parsed = parseToml(text, { maxDepth: MAX_NESTING });
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // smol-toml puts a code excerpt after the first line of its message; keep only the reason.
    const reason = err.message.split("\n")[0]!.replace(/^Invalid TOML document:\s*/, "");
    throw syntaxError(file, text, err.line, err.column, `invalid TOML: ${/excessively nested/.test(reason) ? TOO_DEEP : reason}`);
  }
  // smol-toml bounds nested lists and inline tables, not dotted keys (`[vars.a.b.c...]`), and counts
  // from the value rather than from the top of the file as the JSON check does.
  const plain = toPlain(parsed, 0);
  if (plain === TOO_DEEP_MARK) throw new ConfigError(`${displayPath(file)}: invalid TOML: ${TOO_DEEP} (counting every table, dotted key and list).`, file);
  return plain;
}

/** Returned by toPlain instead of a value nested deeper than MAX_NESTING. */
const TOO_DEEP_MARK = Symbol("too deep");

/**
 * Sets `key` as an own property even when it is `__proto__`: an assignment would replace the
 * object's prototype, whose fields the schema would then read as if the user had written them
 * while the unknown-field check, which lists own keys, never sees them.
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * smol-toml returns tables without a prototype and dates as `TomlDate`. Downstream code (and zod)
 * expects ordinary objects, and an unquoted `compatibility_date = 2026-01-01` is a common slip that
 * wrangler users expect to work, so dates become their ISO text.
 */
function toPlain(value: unknown, depth: number): unknown {
  if (value instanceof TomlDate) return value.toISOString();
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_NESTING) return TOO_DEEP_MARK;
  const entries = Array.isArray(value) ? value.entries() : Object.entries(value);
  const out: unknown[] | Record<string, unknown> = Array.isArray(value) ? [] : {};
  for (const [key, inner] of entries) {
    const converted = toPlain(inner, depth + 1);
    if (converted === TOO_DEEP_MARK) return TOO_DEEP_MARK;
    if (Array.isArray(out)) out.push(converted);
    else setOwn(out, key as string, converted);
  }
  return out;
}

const JSON_ERROR_TEXT: Record<string, string> = {
  InvalidSymbol: "unexpected character",
  InvalidNumberFormat: "malformed number",
  PropertyNameExpected: "expected a property name in double quotes",
  ValueExpected: "expected a value",
  ColonExpected: "expected a colon (:) after the property name",
  CommaExpected: "expected a comma (,) between entries",
  CloseBraceExpected: "expected a closing brace (})",
  CloseBracketExpected: "expected a closing bracket (])",
  EndOfFileExpected: "expected the end of the file after the top-level object",
  InvalidCommentToken: "malformed comment",
  UnexpectedEndOfComment: "unterminated /* comment",
  UnexpectedEndOfString: "unterminated string",
  UnexpectedEndOfNumber: "unterminated number",
  InvalidUnicode: "malformed \\u escape",
  InvalidEscapeCharacter: "invalid escape character in a string",
  InvalidCharacter: "invalid character in a string",
};

/**
 * Both `.json` and `.jsonc` accept comments and trailing commas, as wrangler does: projects generated
 * by create-cloudflare ship a commented `wrangler.json` as often as a `wrangler.jsonc`.
 */
function parseJsonText(text: string, file: string): unknown {
  // jsonc-parser recurses once per level: measure the depth first, with its (iterative) scanner.
  const deep = tooDeepAt(text);
  if (deep !== undefined) {
    const { line, column } = lineAndColumn(text, deep);
    throw syntaxError(file, text, line, column, `invalid JSON: ${TOO_DEEP}`);
  }
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    const { line, column } = lineAndColumn(text, first.offset);
    const code = printParseErrorCode(first.error);
    throw syntaxError(file, text, line, column, `invalid JSON: ${JSON_ERROR_TEXT[code] ?? code}`);
  }
  return tree === undefined ? undefined : nodeValue(tree);
}

// jsonc-parser's SyntaxKind values (a const enum, which cannot be imported under isolated modules).
const OPEN_BRACE = 1;
const OPEN_BRACKET = 3;
const CLOSE_BRACE = 2;
const CLOSE_BRACKET = 4;
const EOF = 17;

/** The offset of the first `{` or `[` nested deeper than MAX_NESTING, if any. */
function tooDeepAt(text: string): number | undefined {
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let kind = scanner.scan(); kind !== EOF; kind = scanner.scan()) {
    if (kind === OPEN_BRACE || kind === OPEN_BRACKET) {
      if (++depth > MAX_NESTING) return scanner.getTokenOffset();
    } else if (kind === CLOSE_BRACE || kind === CLOSE_BRACKET) depth--;
  }
  return undefined;
}

/** The value of a parse tree node, with every key set as an own property (see setOwn). */
function nodeValue(node: Node): unknown {
  if (node.type === "array") return (node.children ?? []).map(nodeValue);
  if (node.type !== "object") return node.value;
  const out: Record<string, unknown> = {};
  for (const property of node.children ?? []) {
    const [key, value] = property.children ?? [];
    if (key !== undefined && value !== undefined) setOwn(out, String(key.value), nodeValue(value));
  }
  return out;
}

/** 1-based line and column of a character offset. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { line, column };
}

/** Characters of the offending line shown on each side of the error (minified JSON is one long line). */
const EXCERPT_RADIUS = 60;

function syntaxError(file: string, text: string, line: number, column: number, reason: string): ConfigError {
  const whole = (text.split("\n")[line - 1] ?? "").replace(/\r$/, "");
  const start = Math.max(0, column - 1 - EXCERPT_RADIUS);
  const end = column - 1 + EXCERPT_RADIUS;
  const source = `${start > 0 ? "..." : ""}${whole.slice(start, end)}${whole.length > end ? "..." : ""}`;
  const caret = `${" ".repeat(Math.max(0, column - 1 - start + (start > 0 ? 3 : 0)))}^`;
  const message = `${displayPath(file)}:${line}:${column}: ${reason} (line ${line}, column ${column})\n    ${source}\n    ${caret}`;
  return new ConfigError(message, file);
}
