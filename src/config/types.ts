/**
 * The validated, normalised form of a project's wrangler config (wrangler.toml / wrangler.json /
 * wrangler.jsonc) plus `.dev.vars`. Everything downstream (bundler, runtime, server) reads only this.
 * All paths are absolute.
 */
export interface AppConfig {
  /** Absolute path of the config file that was read. */
  configPath: string;
  /** Absolute path of the project folder (the config file's directory). */
  rootDir: string;
  /** `name`; defaults to the folder name when absent. Used in logs and storage paths. */
  name: string;
  /** Absolute path of the entry module (`main`). */
  main: string;
  /** `compatibility_date` as YYYY-MM-DD; defaults to today (with a warning) when absent. */
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** True when Node.js APIs are exposed to user code (flag `nodejs_compat`, or date >= 2026-08-04 without `no_nodejs_compat`). */
  nodejsCompat: boolean;
  /** `vars` merged with `.dev.vars` secrets (secrets win). Values are strings or JSON values. */
  vars: Record<string, unknown>;
  /** Names that came from `.dev.vars` (never printed). */
  secretNames: string[];
  durableObjects: DurableObjectBindingConfig[];
  /** Durable Object classes declared by `migrations` or `exports`, after applying renames and deletes. */
  durableObjectClasses: DurableObjectClassConfig[];
  /** Classes deleted by migrations (their data is removed at start). */
  deletedClasses: string[];
  /** Renames applied by migrations, oldest first; storage is moved from `from` to `to`. */
  renamedClasses: { from: string; to: string }[];
  kvNamespaces: KvNamespaceBindingConfig[];
  services: ServiceBindingConfig[];
  crons: string[];
  routes: RouteConfig[];
  rules: ModuleRuleConfig[];
  limits: LimitsConfig;
  /**
   * Bindings of kinds Ledge does not implement yet: present on `env` and throwing "not supported yet" on use.
   * `kind` is the wrangler config field that declared it (`r2_buckets`, `d1_databases`, `queues`, `ai`, `assets`, ...).
   */
  unsupportedBindings: { binding: string; kind: string }[];
  /** Non-fatal problems (unknown fields, defaults applied). Printed once at start. */
  warnings: string[];
}

export interface DurableObjectBindingConfig {
  /** `env` property name. */
  name: string;
  className: string;
  /** Another app on the same node that exports the class; undefined = this app. */
  scriptName?: string;
}

export interface DurableObjectClassConfig {
  className: string;
  /** `sqlite` for `new_sqlite_classes` / `storage: "sqlite"`, `kv` for legacy `new_classes`. Both are SQLite files in Ledge. */
  storage: "sqlite" | "kv";
}

export interface KvNamespaceBindingConfig {
  binding: string;
  /** Namespace id; when absent in the config, the binding name is used (as wrangler dev does locally). */
  id: string;
}

export interface ServiceBindingConfig {
  binding: string;
  service: string;
  entrypoint?: string;
}

export interface RouteConfig {
  pattern: string;
  zoneName?: string;
  zoneId?: string;
  customDomain?: boolean;
}

export interface ModuleRuleConfig {
  type: "ESModule" | "CommonJS" | "Text" | "Data" | "CompiledWasm";
  globs: string[];
  fallthrough: boolean;
}

export interface LimitsConfig {
  /** CPU time one invocation may use, in ms. Default 30,000; bounds 1..300,000 (`limits.cpu_ms`). */
  cpuMs: number;
  /** Subrequests per invocation. Default 10,000 (`limits.subrequests`). */
  subrequests: number;
  /** Isolate heap limit in MB. Default 128 (Ledge extension: `limits.memory_mb`). */
  memoryMb: number;
}

/** Options that override the config from the command line. */
export interface ConfigOverrides {
  /** `--var KEY:VALUE`, applied over `vars` and `.dev.vars`. */
  vars?: Record<string, string>;
  /** `--env NAME`: use `[env.NAME]` sections. */
  env?: string;
  /** Path of the config file, when not found by the default search. */
  configPath?: string;
}

/** Thrown for a config the user must fix. `message` names the file, the field and what is expected. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly code = "LEDGE_CONFIG";
  constructor(
    message: string,
    readonly file?: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
