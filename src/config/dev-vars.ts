/**
 * Local secrets from `.dev.vars`, in dotenv syntax, as `wrangler dev` reads them.
 */
import fs from "node:fs";
import path from "node:path";
import { isInside } from "../shared/paths.js";

export interface DevVars {
  /** Absolute path of the file that was read. */
  file: string;
  values: Record<string, string>;
  /** Lines that could not be read, 1-based, with the reason; dotenv skips them, Ledge also says so. */
  skipped: { line: number; reason: string }[];
}

/**
 * Reads `.dev.vars.<env>` when an environment is selected and that file exists, otherwise `.dev.vars`,
 * from the config file's folder. Returns undefined when neither exists.
 */
export function readDevVars(rootDir: string, envName: string | undefined): DevVars | undefined {
  const candidates = envName === undefined ? [".dev.vars"] : [`.dev.vars.${envName}`, ".dev.vars"];
  for (const name of candidates) {
    const file = path.join(rootDir, name);
    // `--env` is free text; `--env x/../../..` must not read a file outside the project.
    if (!isInside(rootDir, file)) continue;
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue;
    }
    return { file, ...parseDotenv(text) };
  }
  return undefined;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Parses dotenv text: `KEY=value`, an optional `export ` prefix, `#` comments (whole-line, or after
 * whitespace following an unquoted value), single quotes (literal), double quotes (with `\n`, `\t`,
 * `\"` and `\\` escapes) and backticks; quoted values may span lines. Later keys win, as in dotenv.
 * Example: `parseDotenv('export API_KEY="abc" # test key')` → `{ values: { API_KEY: "abc" }, ... }`.
 */
export function parseDotenv(text: string): Omit<DevVars, "file"> {
  const values: Record<string, string> = {};
  const skipped: DevVars["skipped"] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const body = line.startsWith("export ") ? line.slice("export ".length).trimStart() : line;
    const eq = body.indexOf("=");
    if (eq <= 0) {
      skipped.push({ line: lineNumber, reason: "expected KEY=value" });
      continue;
    }
    const key = body.slice(0, eq).trim();
    if (!KEY.test(key)) {
      skipped.push({ line: lineNumber, reason: `"${key}" is not a valid variable name` });
      continue;
    }
    let rest = body.slice(eq + 1).trimStart();
    const quote = rest[0];
    if (quote !== '"' && quote !== "'" && quote !== "`") {
      // An unquoted value ends at a comment that follows whitespace, so URLs with '#' survive.
      values[key] = rest.replace(/\s+#.*$/, "").trim();
      continue;
    }
    // Quoted: read until the closing quote, continuing onto the next lines if needed.
    const startLine = i;
    let closing = findClosingQuote(rest, quote);
    while (closing < 0 && i + 1 < lines.length) {
      i++;
      rest += `\n${lines[i]!}`;
      closing = findClosingQuote(rest, quote);
    }
    if (closing < 0) {
      skipped.push({ line: startLine + 1, reason: `unterminated ${quote} quote` });
      continue;
    }
    const inner = rest.slice(1, closing);
    values[key] = quote === '"' ? unescapeDouble(inner) : inner;
  }
  return { values, skipped };
}

function findClosingQuote(s: string, quote: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === "\\" && quote === '"') i++;
    else if (s[i] === quote) return i;
  }
  return -1;
}

function unescapeDouble(s: string): string {
  return s.replace(/\\([nrt"\\])/g, (_, c: string) => ({ n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" })[c] ?? c);
}
