/**
 * Turns zod's validation issues into one plain sentence per problem, and finds fields the schema does
 * not know. Each message names the dotted field path, what was found, what is expected, and shows a
 * correct value in the user's own syntax.
 */
import type { z } from "zod";
import { describeValue, formatPath, isRecord, type FieldPath, type Problems } from "./internal.js";

interface Hint {
  /** What a correct value looks like, in words; overrides the wording derived from the issue. */
  expected?: string;
  /** A correct value, rendered with the field's own key in TOML or JSON. */
  example: unknown;
}

const DO_BINDING = { name: "COUNTER", class_name: "Counter" };
const MIGRATION = { tag: "v1", new_sqlite_classes: ["Counter"] };
const ROUTE_EXPECTED = "a route pattern string, or a table with pattern (and optionally zone_name, zone_id, custom_domain)";

/**
 * Examples keyed by path pattern: list indices become `[]` and keys of free-form maps (vars, exports,
 * env) become `*`. Paths inside `env.<name>.` use the same entries as the top level.
 */
const HINTS: Record<string, Hint> = {
  name: { expected: "a Worker name", example: "my-worker" },
  main: { expected: "the path of the entry module, relative to the config file", example: "src/index.ts" },
  compatibility_date: { expected: "a date written YYYY-MM-DD", example: "2026-11-01" },
  compatibility_flags: { example: ["nodejs_compat"] },
  "compatibility_flags[]": { example: "nodejs_compat" },
  vars: { example: { API_URL: "https://example.com" } },
  secrets: { example: { required: ["API_KEY"] } },
  "secrets.required": { example: ["API_KEY"] },
  durable_objects: { example: { bindings: [DO_BINDING] } },
  "durable_objects.bindings": { example: [DO_BINDING] },
  "durable_objects.bindings[]": { example: DO_BINDING },
  "durable_objects.bindings[].name": { expected: "the env property name", example: "COUNTER" },
  "durable_objects.bindings[].class_name": { expected: "the exported class name", example: "Counter" },
  "durable_objects.bindings[].script_name": { example: "other-worker" },
  migrations: { example: [MIGRATION] },
  "migrations[]": { example: MIGRATION },
  "migrations[].tag": { example: "v1" },
  "migrations[].new_classes": { example: ["Counter"] },
  "migrations[].new_sqlite_classes": { example: ["Counter"] },
  "migrations[].deleted_classes": { example: ["OldCounter"] },
  "migrations[].new_classes[]": { example: "Counter" },
  "migrations[].new_sqlite_classes[]": { example: "Counter" },
  "migrations[].deleted_classes[]": { example: "OldCounter" },
  "migrations[].transferred_classes[].to": { example: "Counter" },
  "migrations[].renamed_classes": { example: [{ from: "OldName", to: "NewName" }] },
  "migrations[].renamed_classes[]": { example: { from: "OldName", to: "NewName" } },
  "migrations[].renamed_classes[].from": { example: "OldName" },
  "migrations[].renamed_classes[].to": { example: "NewName" },
  exports: { example: { Counter: { type: "durable-object", storage: "sqlite" } } },
  "exports.*": { example: { type: "durable-object", storage: "sqlite" } },
  "exports.*.type": { example: "durable-object" },
  "exports.*.storage": { example: "sqlite" },
  "exports.*.state": { example: "created" },
  "exports.*.renamed_to": { example: "NewName" },
  kv_namespaces: { example: [{ binding: "CACHE", id: "cache" }] },
  "kv_namespaces[]": { example: { binding: "CACHE", id: "cache" } },
  "kv_namespaces[].binding": { example: "CACHE" },
  "kv_namespaces[].id": { example: "cache" },
  services: { example: [{ binding: "AUTH", service: "auth-worker" }] },
  "services[]": { example: { binding: "AUTH", service: "auth-worker" } },
  "services[].binding": { example: "AUTH" },
  "services[].service": { expected: "the name of another Worker", example: "auth-worker" },
  "services[].entrypoint": { example: "AuthEntrypoint" },
  triggers: { example: { crons: ["*/5 * * * *"] } },
  "triggers.crons": { example: ["*/5 * * * *"] },
  "triggers.crons[]": { expected: "a cron expression", example: "*/5 * * * *" },
  route: { expected: ROUTE_EXPECTED, example: "example.com/*" },
  routes: { example: ["example.com/*"] },
  "routes[]": { expected: ROUTE_EXPECTED, example: { pattern: "example.com/*", zone_name: "example.com" } },
  "routes[].pattern": { example: "example.com/*" },
  "routes[].zone_name": { example: "example.com" },
  "routes[].custom_domain": { example: true },
  rules: { example: [{ type: "Text", globs: ["**/*.md"], fallthrough: true }] },
  "rules[]": { example: { type: "Text", globs: ["**/*.md"], fallthrough: true } },
  "rules[].type": { example: "Text" },
  "rules[].globs": { example: ["**/*.md"] },
  "rules[].fallthrough": { example: true },
  limits: { example: { cpu_ms: 30000 } },
  "limits.cpu_ms": { expected: "a whole number of milliseconds from 1 to 300000 (default 30000)", example: 30000 },
  "limits.subrequests": { expected: "a whole number from 1 to 10000000 (default 10000)", example: 10000 },
  "limits.memory_mb": { expected: "a whole number of megabytes from 16 to 4096 (default 128)", example: 128 },
  env: { example: { staging: { name: "my-worker-staging" } } },
  "env.*": { example: { name: "my-worker-staging" } },
};

/** The HINTS key for a concrete path. */
function hintKey(p: FieldPath): string {
  const rest = p[0] === "env" && p.length > 2 ? p.slice(2) : p;
  let key = "";
  for (let i = 0; i < rest.length; i++) {
    const segment = rest[i]!;
    const parent = i === 0 ? undefined : rest[i - 1];
    if (typeof segment === "number") key += "[]";
    else if (i === 1 && (parent === "vars" || parent === "exports" || parent === "env")) key += ".*";
    else key += key === "" ? segment : `.${segment}`;
  }
  return key;
}

/** The example line for a path, with the path's own last key (or none for a list element). */
export function exampleFor(problems: Problems, p: FieldPath): string | undefined {
  const hint = HINTS[hintKey(p)];
  if (hint === undefined) return undefined;
  const last = p[p.length - 1];
  return problems.example(typeof last === "string" ? last : undefined, hint.example);
}

function valueAt(root: unknown, p: FieldPath): unknown {
  let value = root;
  for (const segment of p) {
    if (Array.isArray(value) && typeof segment === "number") value = value[segment];
    else if (isRecord(value) && typeof segment === "string") value = value[segment];
    else return undefined;
  }
  return value;
}

type Issue = z.core.$ZodIssue;

function expectedFromIssue(issue: Issue, format: "toml" | "json"): string {
  switch (issue.code) {
    case "invalid_type": {
      const words: Record<string, string> = {
        string: "a string",
        number: "a number",
        int: "a whole number",
        boolean: "true or false",
        array: "a list",
        object: format === "toml" ? "a table" : "an object",
        record: format === "toml" ? "a table" : "an object",
      };
      return words[issue.expected] ?? issue.expected;
    }
    case "too_small":
      if (issue.origin === "string") return "a non-empty string";
      if (issue.origin === "array") return `a list of at least ${String(issue.minimum)} entries`;
      return `a number of at least ${String(issue.minimum)}`;
    case "too_big":
      if (issue.origin === "array") return `a list of at most ${String(issue.maximum)} entries`;
      return `a number of at most ${String(issue.maximum)}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return issue.message;
  }
}

/**
 * zod reports a failed union as one list of issues per alternative. When the value has the type of
 * one alternative (a table where a string-or-table is allowed), that alternative's issues are the ones
 * that explain the mistake, and they point deeper into the value.
 */
function unwrapUnion(issue: Issue): Issue[] | undefined {
  if (issue.code !== "invalid_union") return undefined;
  const typed = issue.errors.find((branch) => !branch.some((i) => i.code === "invalid_type" && i.path.length === 0));
  return typed?.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as Issue);
}

/** Records one error per zod issue; `prefix` places the checked object in the file (`env.staging`). */
export function reportIssues(problems: Problems, issues: readonly Issue[], input: unknown, prefix: FieldPath): void {
  for (const issue of issues) {
    const branch = unwrapUnion(issue);
    if (branch !== undefined) {
      reportIssues(problems, branch, input, prefix);
      continue;
    }
    const local = issue.path.filter((s): s is string | number => typeof s !== "symbol");
    const full = [...prefix, ...local];
    const found = valueAt(input, local);
    const hint = HINTS[hintKey(full)];
    // A hint's wording describes the field in general; an enum's values or a name rule say more.
    const specific = issue.code === "invalid_value" || issue.code === "custom";
    const expected = hint?.expected !== undefined && !specific ? hint.expected : expectedFromIssue(issue, problems.format);
    const what = found === undefined ? `missing; expected ${expected}` : `found ${describeValue(found, problems.format)}, expected ${expected}`;
    const ex = exampleFor(problems, full);
    problems.error(formatPath(full), `${what}.${ex === undefined ? "" : ` Example: ${ex}`}`);
  }
}

type AnySchema = z.core.$ZodType;

/** Follows wrappers (optional, default, nullable, pipe) to the schema that describes the value itself. */
function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const def = current._zod.def as unknown as { type: string; innerType?: AnySchema; in?: AnySchema };
    if (def.innerType !== undefined) current = def.innerType;
    else if (def.type === "pipe" && def.in !== undefined) current = def.in;
    else return current;
  }
}

/**
 * Warns about fields the schema does not describe: a typo (`compatiblity_date`) or a field from a newer
 * wrangler. Warnings, never errors, so a config that works with wrangler always loads.
 */
export function unknownFieldWarnings(problems: Problems, schema: AnySchema, value: unknown, p: FieldPath): void {
  const def = unwrap(schema)._zod.def as unknown as {
    type: string;
    shape?: Record<string, AnySchema>;
    catchall?: AnySchema;
    element?: AnySchema;
    valueType?: AnySchema;
    options?: AnySchema[];
  };
  if (def.type === "object" && isRecord(value)) {
    for (const [key, inner] of Object.entries(value)) {
      // Own keys only: a field called `__proto__` must not find Object.prototype.
      const field = def.shape !== undefined && Object.hasOwn(def.shape, key) ? def.shape[key] : undefined;
      if (field !== undefined) unknownFieldWarnings(problems, field, inner, [...p, key]);
      else if (def.catchall === undefined) {
        const near = closest(key, Object.keys(def.shape ?? {}));
        const advice = near === undefined ? "Check its spelling against wrangler's configuration docs." : `Did you mean "${near}"?`;
        problems.warn(formatPath([...p, key]), `unknown field, ignored. ${advice}`);
      }
    }
  } else if (def.type === "array" && Array.isArray(value) && def.element !== undefined) {
    value.forEach((item, i) => unknownFieldWarnings(problems, def.element!, item, [...p, i]));
  } else if (def.type === "record" && isRecord(value) && def.valueType !== undefined) {
    for (const [key, inner] of Object.entries(value)) unknownFieldWarnings(problems, def.valueType, inner, [...p, key]);
  } else if (def.type === "union" && def.options !== undefined) {
    const kind = Array.isArray(value) ? "array" : isRecord(value) ? "object" : typeof value;
    const match = def.options.find((o) => (unwrap(o)._zod.def as { type: string }).type === kind);
    if (match !== undefined) unknownFieldWarnings(problems, match, value, p);
  }
}

/** The known key closest to `key` when it is within two edits: most likely what a typo meant. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
