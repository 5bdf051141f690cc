/**
 * `src/config`: reads a project's wrangler.json / wrangler.jsonc / wrangler.toml (and `.dev.vars`),
 * validates it, and returns the normalised `AppConfig` everything else runs from.
 */
import fs from "node:fs";
import path from "node:path";
import { checkDuplicateBindings, collectUnsupportedBindings, resolveKvNamespaces } from "./bindings.js";
import { resolveDurableObjects } from "./durable-objects.js";
import { selectEnvironment } from "./environments.js";
import { resolveConfigFile } from "./find.js";
import { displayPath, formatPath, Problems } from "./internal.js";
import {
  checkAssetsDirectory,
  resolveCompatibilityDate,
  resolveCrons,
  resolveLimits,
  resolveMain,
  resolveName,
  resolveNodejsCompat,
  resolveRoutes,
  warnAboutIgnoredFields,
} from "./normalise.js";
import { formatOf, parseConfigText } from "./parse.js";
import { resolveModuleRules } from "./rules.js";
import { ConfigError, type AppConfig, type ConfigOverrides } from "./types.js";
import { composeVars } from "./vars.js";

export * from "./types.js";
export { CONFIG_FILE_NAMES, findConfigFile } from "./find.js";
export { DEFAULT_MODULE_RULES } from "./rules.js";
export { NODEJS_COMPAT_DEFAULT_DATE } from "./normalise.js";
export { parseDotenv } from "./dev-vars.js";
export { parseVarFlag, formatConfigWarnings } from "./cli-helpers.js";

export interface LoadConfigOptions {
  /** The clock used for the default compatibility date. Default: `new Date()`. */
  now?: () => Date;
}

/**
 * Loads, validates and normalises a project's config. `dirOrFile` is the project folder or the config
 * file itself. Throws one `ConfigError` listing every problem found; non-fatal ones are in `warnings`.
 * Example: `const config = await loadConfig("./my-app", { env: "staging", vars: { DEBUG: "1" } });`
 */
export async function loadConfig(dirOrFile: string, overrides: ConfigOverrides = {}, options: LoadConfigOptions = {}): Promise<AppConfig> {
  const { configPath, warnings: findWarnings } = resolveConfigFile(dirOrFile, overrides);
  const rootDir = path.dirname(configPath);
  let text: string;
  try {
    text = await fs.promises.readFile(configPath, "utf8");
  } catch (err) {
    throw new ConfigError(`${displayPath(configPath)}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}).`, configPath);
  }
  const problems = new Problems(configPath, formatOf(configPath));
  problems.warnings.push(...findWarnings);

  const sel = selectEnvironment(parseConfigText(text, configPath), overrides.env, problems);
  problems.throwIfAny();
  if (sel === undefined) throw new Error("unreachable: an invalid config always records an error");
  const { raw, origin } = sel;

  const name = resolveName(sel, rootDir, problems);
  const main = resolveMain(sel, rootDir, problems);
  checkAssetsDirectory(sel, rootDir, problems);
  const compatibilityDate = resolveCompatibilityDate(sel, (options.now ?? (() => new Date()))(), problems);
  const compatibilityFlags = [...(raw.compatibility_flags ?? [])];
  const nodejsCompat = resolveNodejsCompat(compatibilityFlags, compatibilityDate, origin("compatibility_flags"), problems);
  const objects = resolveDurableObjects(raw, origin, problems);
  const kvNamespaces = resolveKvNamespaces(raw, origin, problems);
  const services = (raw.services ?? []).map((s) => ({
    binding: s.binding,
    service: s.service,
    ...(s.entrypoint === undefined ? {} : { entrypoint: s.entrypoint }),
  }));
  const unsupported = collectUnsupportedBindings(raw, origin, problems);
  warnAboutIgnoredFields(sel, problems);
  const composed = composeVars({
    vars: raw.vars,
    varsAt: origin("vars"),
    requiredSecrets: raw.secrets?.required,
    secretsAt: origin("secrets"),
    rootDir,
    envName: sel.envName,
    flags: overrides.vars,
    problems,
  });

  const at = (field: string, ...rest: (string | number)[]) => formatPath([...origin(field), field, ...rest]);
  checkDuplicateBindings(
    [
      ...composed.named,
      ...kvNamespaces.map((kv, i) => ({ name: kv.binding, declaredAt: at("kv_namespaces", i, "binding") })),
      ...objects.bindings.map((b, i) => ({ name: b.name, declaredAt: at("durable_objects", "bindings", i, "name") })),
      ...services.map((s, i) => ({ name: s.binding, declaredAt: at("services", i, "binding") })),
      ...unsupported.named,
    ],
    problems,
  );

  const config: AppConfig = {
    configPath,
    rootDir,
    name,
    main,
    compatibilityDate,
    compatibilityFlags,
    nodejsCompat,
    vars: composed.vars,
    secretNames: composed.secretNames,
    durableObjects: objects.bindings,
    durableObjectClasses: objects.classes,
    deletedClasses: objects.deleted,
    renamedClasses: objects.renamed,
    kvNamespaces,
    services,
    crons: resolveCrons(sel, problems),
    routes: resolveRoutes(sel, problems),
    rules: resolveModuleRules(raw.rules ?? [], [...origin("rules"), "rules"], problems),
    limits: resolveLimits(sel),
    unsupportedBindings: unsupported.bindings,
    warnings: problems.warnings,
  };
  problems.throwIfAny();
  return config;
}
