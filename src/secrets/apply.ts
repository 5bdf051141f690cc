/**
 * Stored secrets join an app's `env` at start, after its config is loaded. Precedence, lowest
 * first: `vars` from the config, stored secrets, `.dev.vars`, `--var`. A stored secret may not
 * share its name with a `vars` entry or another binding: Cloudflare refuses to deploy such a
 * Worker ("binding name already in use"), and a value that silently replaces another is a bug
 * waiting to be found. `.dev.vars` and `--var` are overrides by intent, so they win quietly.
 */
import type { AppConfig } from "../config/types.js";
import { LedgeError } from "../shared/errors.js";
import { readSecrets } from "./store.js";

/**
 * The config with the app's stored secrets added to `vars` (and their names to `secretNames`).
 * `flagNames` are the `--var` keys given to this app. Returns `config` itself when it has none.
 * Example: `config = withStoredSecrets(config, persistDir, new Set(Object.keys(flags)))`.
 */
export function withStoredSecrets(config: AppConfig, persistDir: string, flagNames: ReadonlySet<string>): AppConfig {
  const stored = readSecrets(persistDir, config.name);
  const names = Object.keys(stored);
  if (names.length === 0) return config;
  const fromDevVars = new Set(config.secretNames);
  const bindings = new Map<string, string>([
    ...config.kvNamespaces.map((b) => [b.binding, "kv_namespaces"] as const),
    ...config.durableObjects.map((b) => [b.name, "durable_objects.bindings"] as const),
    ...config.services.map((b) => [b.binding, "services"] as const),
    ...config.unsupportedBindings.map((b) => [b.binding, b.kind] as const),
  ]);
  const vars = { ...config.vars };
  for (const name of names) {
    const clash = bindings.get(name) ?? (Object.hasOwn(vars, name) && !fromDevVars.has(name) && !flagNames.has(name) ? "vars" : undefined);
    if (clash !== undefined) {
      throw new LedgeError(
        "LEDGE_SECRET_CONFLICT",
        `app "${config.name}": secret "${name}" has the name of a binding in ${clash} of ${config.configPath}; a name is a var, a secret or a binding, not two of them. Rename one, or delete the secret: ledge secret delete ${name} --name ${config.name}`,
      );
    }
    if (!fromDevVars.has(name) && !flagNames.has(name)) vars[name] = stored[name];
  }
  return { ...config, vars, secretNames: [...new Set([...config.secretNames, ...names])] };
}
