import path from "node:path";
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
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

function parseTomlText(text: string, file: string): unknown {
  try {
    return toPlain(parseToml(text));
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // smol-toml puts a code excerpt after the first line of its message; keep only the reason.
    const reason = err.message.split("\n")[0]!.replace(/^Invalid TOML document:\s*/, "");
    throw syntaxError(file, text, err.line, err.column, `invalid TOML: ${reason}`);
  }
}

/**
 * smol-toml returns tables without a prototype and dates as `TomlDate`. Downstream code (and zod)
 * expects ordinary objects, and an unquoted `compatibility_date = 2026-01-01` is a common slip that
 * wrangler users expect to work, so dates become their ISO text.
 */
function toPlain(value: unknown): unknown {
  if (value instanceof TomlDate) return value.toISOString();
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = toPlain(inner);
    return out;
  }
  return value;
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
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    const { line, column } = lineAndColumn(text, first.offset);
    const code = printParseErrorCode(first.error);
    throw syntaxError(file, text, line, column, `invalid JSON: ${JSON_ERROR_TEXT[code] ?? code}`);
  }
  return value;
}

/** 1-based line and column of a character offset. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { line, column };
}

function syntaxError(file: string, text: string, line: number, column: number, reason: string): ConfigError {
  const source = (text.split("\n")[line - 1] ?? "").replace(/\r$/, "");
  const caret = `${" ".repeat(Math.max(0, column - 1))}^`;
  const message = `${displayPath(file)}:${line}:${column}: ${reason} (line ${line}, column ${column})\n    ${source}\n    ${caret}`;
  return new ConfigError(message, file);
}
