/**
 * Helpers shared by the files of `src/config/`. Nothing here is part of the folder's contract;
 * other folders import `./index.js` only.
 */
import { displayPath } from "../shared/paths.js";
import { ConfigError } from "./types.js";

/** The syntax examples in messages are written in: the user's own file format. */
export type ConfigFormat = "toml" | "json";

export type FieldPath = readonly (string | number)[];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * Renders a path the way users read their config: `durable_objects.bindings[0].class_name`.
 * Keys that are not plain identifiers (a var called `MY KEY`) are quoted so they can be searched for.
 */
export function formatPath(p: FieldPath): string {
  let out = "";
  for (const segment of p) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const key = IDENTIFIER.test(segment) ? segment : truncate(JSON.stringify(segment));
      out += out === "" ? key : `.${key}`;
    }
  }
  return out;
}

export { displayPath } from "../shared/paths.js";

/** Describes a value the user wrote, short enough to sit inside a one-line message. */
export function describeValue(value: unknown, format: ConfigFormat): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : `a list (${truncate(JSON.stringify(value))})`;
  if (typeof value === "object") return format === "toml" ? "a table" : "an object";
  if (typeof value === "string") return truncate(JSON.stringify(value));
  return String(value);
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Writes `value` as a TOML inline value; TOML strings, numbers and booleans happen to share JSON's syntax. */
function tomlValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => `${IDENTIFIER.test(k) ? k : JSON.stringify(k)} = ${tomlValue(v)}`);
    return `{ ${entries.join(", ")} }`;
  }
  return JSON.stringify(value);
}

function jsonValue(value: unknown): string {
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, " ");
}

/**
 * A one-line example of a correct value in the user's own syntax, e.g. `class_name = "Counter"` for
 * TOML or `"class_name": "Counter"` for JSON. Without a key (a list element) only the value is shown.
 */
export function example(format: ConfigFormat, key: string | undefined, value: unknown): string {
  if (format === "toml") return key === undefined ? tomlValue(value) : `${IDENTIFIER.test(key) ? key : JSON.stringify(key)} = ${tomlValue(value)}`;
  return key === undefined ? jsonValue(value) : `${JSON.stringify(key)}: ${jsonValue(value)}`;
}

export interface Problem {
  file: string;
  field?: string;
  message: string;
}

/**
 * Collects every problem found in one load, so the user can fix them all in one go instead of
 * discovering them one restart at a time. Errors become one `ConfigError`; warnings travel on
 * `AppConfig.warnings`.
 */
export class Problems {
  readonly errors: Problem[] = [];
  readonly warnings: string[] = [];

  constructor(
    readonly file: string,
    readonly format: ConfigFormat,
  ) {}

  /** Records an error about `field` (a dotted path, or undefined for the file as a whole). */
  error(field: string | undefined, message: string, file: string = this.file): void {
    this.errors.push({ file, field, message });
  }

  /** Records a non-fatal problem. Warnings name the field; the file is named once by `formatConfigWarnings`. */
  warn(field: string | undefined, message: string): void {
    this.warnings.push(field === undefined ? message : `${field}: ${message}`);
  }

  example(key: string | undefined, value: unknown): string {
    return example(this.format, key, value);
  }

  /** Throws one ConfigError listing every error collected so far; returns when there are none. */
  throwIfAny(): void {
    if (this.errors.length === 0) return;
    const lines = this.errors.map(
      (p) => `${displayPath(p.file)}: ${p.field === undefined ? "" : `${p.field}: `}${p.message}`,
    );
    const message =
      lines.length === 1 ? lines[0]! : [`Found ${lines.length} problems in the config:`, ...lines.map((l) => `  - ${l}`)].join("\n");
    const first = this.errors[0]!;
    throw new ConfigError(message, first.file, first.field);
  }
}

/** True when `value` is a plain key/value object (a TOML table or a JSON object), not a list or null. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
