/**
 * Validates the top level of the file and the `[env.<name>]` section chosen with `--env`, and merges
 * them the way wrangler does: settings are inherited from the top level, bindings are not.
 */
import { formatPath, isRecord, type FieldPath, type Problems } from "./internal.js";
import { reportIssues, unknownFieldWarnings } from "./issues.js";
import { environmentSchema, topLevelSchema, UNSUPPORTED_BINDINGS, type RawEnvironment, type RawTopLevel } from "./schema.js";

/**
 * Fields an environment never inherits from the top level (wrangler's "non-inheritable keys"): every
 * binding, plus `define`. A top-level KV namespace silently appearing in production would be worse
 * than a missing one, which is why wrangler (and Ledge) warn instead.
 */
const NOT_INHERITED = new Set<string>([
  "vars",
  "secrets",
  "define",
  "durable_objects",
  "kv_namespaces",
  "services",
  "tail_consumers",
  "streaming_tail_consumers",
  "containers",
  "cloudchamber",
  "connect",
  ...Object.keys(UNSUPPORTED_BINDINGS),
]);

/** The config after choosing an environment; `origin` says where each field was written. */
export interface SelectedConfig {
  raw: RawTopLevel;
  envName: string | undefined;
  /** Where `field` came from, as the path prefix to use in messages: `[]` or `["env", name]`. */
  origin(field: string): FieldPath;
}

/**
 * Returns the merged config, or undefined when the shapes are invalid (the errors are in `problems`;
 * meaning cannot be checked on a wrongly shaped config).
 */
export function selectEnvironment(input: unknown, envName: string | undefined, problems: Problems): SelectedConfig | undefined {
  if (!isRecord(input)) {
    problems.error(undefined, `the file must contain a ${problems.format === "toml" ? "table of settings" : "JSON object"} at the top level.`);
    return undefined;
  }
  const top = topLevelSchema.safeParse(input);
  if (!top.success) reportIssues(problems, top.error.issues, input, []);
  unknownFieldWarnings(problems, topLevelSchema, input, []);

  if (envName === undefined) {
    return top.success ? { raw: top.data, envName, origin: () => [] } : undefined;
  }

  const sections = isRecord(input.env) ? input.env : {};
  const rawEnv = Object.hasOwn(sections, envName) ? sections[envName] : undefined;
  let env: RawEnvironment = {};
  if (rawEnv === undefined) {
    const names = Object.keys(sections);
    const hint = problems.example(undefined, { env: { [envName]: { name: `my-worker-${envName}` } } });
    if (names.length > 0) {
      problems.error(`env.${envName}`, `no environment named "${envName}" (--env); the config defines ${names.map((n) => `"${n}"`).join(", ")}. Add a section, e.g. ${hint}`);
    } else {
      problems.warn(`env.${envName}`, `no environment named "${envName}" in the config; using the top-level settings.`);
    }
  } else {
    const parsed = environmentSchema.safeParse(rawEnv);
    if (parsed.success) env = parsed.data;
    else reportIssues(problems, parsed.error.issues, rawEnv, ["env", envName]);
    unknownFieldWarnings(problems, environmentSchema, rawEnv, ["env", envName]);
  }
  if (!top.success || problems.errors.length > 0) return undefined;
  return mergeEnvironment(top.data, env, envName, problems);
}

function mergeEnvironment(top: RawTopLevel, env: RawEnvironment, envName: string, problems: Problems): SelectedConfig {
  const merged: Record<string, unknown> = { ...top };
  const fromEnv = new Set<string>();
  const topRecord = top as Record<string, unknown>;
  const envRecord = env as Record<string, unknown>;
  for (const field of Object.keys(environmentSchema.shape)) {
    const own = envRecord[field];
    if (NOT_INHERITED.has(field)) {
      merged[field] = own;
      if (own !== undefined) fromEnv.add(field);
      else if (topRecord[field] !== undefined) {
        problems.warn(
          formatPath(["env", envName]),
          `"${field}" is set at the top level but not in env.${envName}; like wrangler, Ledge does not inherit it. Repeat it in env.${envName} if this environment needs it.`,
        );
      }
    } else if (own !== undefined) {
      merged[field] = own;
      fromEnv.add(field);
    }
  }
  // `route` and `routes` describe one setting: an environment that sets either replaces both.
  if (env.route !== undefined || env.routes !== undefined) {
    merged.route = env.route;
    merged.routes = env.routes;
  }
  // Wrangler deploys an environment as a Worker named `<name>-<env>` unless the section names it.
  // An empty top-level name means "the folder's name", which resolveName suffixes itself.
  if (env.name === undefined && top.name) merged.name = `${top.name}-${envName}`;
  return {
    raw: merged as RawTopLevel,
    envName,
    origin: (field) => (fromEnv.has(field) ? ["env", envName] : []),
  };
}
