/**
 * Builds the `env` object an app's handlers receive, from its config: vars and secrets, KV
 * namespaces, Durable Object namespaces, and placeholders for bindings Ledge lacks.
 */
import type { AppConfig } from "../../config/types.js";
import { KVNamespace, KvStore, kvDbPath } from "../../kv/index.js";
import { DurableObjectNamespace, namespaceKey, type ObjectRouter } from "../../objects/index.js";
import { NotSupportedError } from "../../shared/errors.js";
import { createServiceBinding, type ServiceRouter } from "./service.js";

export interface EnvResources {
  kvStores: KvStore[];
}

export function buildEnv(config: AppConfig, persistDir: string, router: ObjectRouter & ServiceRouter): { env: Record<string, unknown>; resources: EnvResources } {
  const env: Record<string, unknown> = {};
  const resources: EnvResources = { kvStores: [] };
  for (const [k, v] of Object.entries(config.vars)) env[k] = v;
  for (const kv of config.kvNamespaces) {
    const store = new KvStore(kvDbPath(persistDir, kv.id));
    resources.kvStores.push(store);
    env[kv.binding] = new KVNamespace(store);
  }
  for (const b of config.durableObjects) {
    const app = b.scriptName ?? config.name;
    const key = namespaceKey(app, b.scriptName ? null : config, b.className);
    env[b.name] = new DurableObjectNamespace(app, b.className, key, router);
  }
  for (const s of config.services) env[s.binding] = createServiceBinding(s.service, s.entrypoint, router);
  for (const u of config.unsupportedBindings) env[u.binding] = unsupported(`${u.kind} bindings (${u.binding})`);
  return { env, resources };
}

/** A binding that throws a clear error on first use rather than failing at start-up. */
function unsupported(feature: string): unknown {
  return new Proxy(
    {},
    {
      get(_t, prop) {
        if (typeof prop === "symbol" || prop === "then" || prop === "toJSON") return undefined;
        throw new NotSupportedError(feature);
      },
    },
  );
}
