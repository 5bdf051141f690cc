/**
 * The shape of a wrangler config as users write it (snake_case, wrangler's field names), checked with
 * zod. Only shapes live here; meaning (defaults, file checks, migrations) is applied in `normalise.ts`.
 *
 * Objects use zod's default "strip" mode: unknown fields never fail validation. They are reported as
 * warnings by `unknownFieldWarnings` in `issues.ts`, which walks these same schemas.
 */
import { z } from "zod";
import { appNameProblem, classNameProblem, workerNameProblem } from "../shared/names.js";

const nonEmpty = z.string().min(1);
const stringList = z.array(z.string());

/** A string that must pass one of the name rules of src/shared/names.ts (they become file paths). */
function named(problem: (name: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const expected = problem(value);
    if (expected !== undefined) ctx.addIssue({ code: "custom", message: expected });
  });
}
const className = named(classNameProblem);
const classList = z.array(className);
/** Fields wrangler knows that Ledge accepts but does not act on. Their content is not checked. */
const ignored = z.unknown().optional();

const durableObjectBinding = z.object({
  name: nonEmpty,
  class_name: className,
  script_name: named(appNameProblem).optional(),
  environment: z.string().optional(),
});

const migration = z.object({
  tag: nonEmpty,
  new_classes: classList.optional(),
  new_sqlite_classes: classList.optional(),
  renamed_classes: z.array(z.object({ from: className, to: className })).optional(),
  deleted_classes: classList.optional(),
  transferred_classes: z.array(z.object({ from: z.string(), from_script: z.string(), to: className })).optional(),
});
export type RawMigration = z.infer<typeof migration>;

/** One entry of the 2026 declarative `exports` map. Which fields are required depends on `state`. */
const exportEntry = z.object({
  type: z.enum(["durable-object", "worker"]),
  storage: z.enum(["sqlite", "legacy-kv"]).optional(),
  state: z.enum(["created", "deleted", "renamed", "transferred", "expecting-transfer"]).optional(),
  renamed_to: className.optional(),
  transferred_to: z.string().optional(),
  transfer_from: z.string().optional(),
  container: ignored,
  cache: ignored,
});
export type RawExport = z.infer<typeof exportEntry>;

const kvNamespace = z.object({
  binding: nonEmpty,
  id: nonEmpty.optional(),
  preview_id: ignored,
  remote: ignored,
});

const service = z.object({
  binding: nonEmpty,
  service: nonEmpty,
  entrypoint: nonEmpty.optional(),
  environment: ignored,
  props: ignored,
  remote: ignored,
});

const routeObject = z.object({
  pattern: nonEmpty,
  zone_name: z.string().optional(),
  zone_id: z.string().optional(),
  custom_domain: z.boolean().optional(),
});
const route = z.union([nonEmpty, routeObject]);
export type RawRoute = z.infer<typeof route>;

const rule = z.object({
  type: z.enum(["ESModule", "CommonJS", "CompiledWasm", "Text", "Data", "PythonModule", "PythonRequirement"]),
  globs: stringList,
  fallthrough: z.boolean().optional(),
});
export type RawRule = z.infer<typeof rule>;

/** Bounds are Cloudflare's (cpu_ms) or Ledge's own (memory_mb, a Ledge extension). */
const limits = z.object({
  cpu_ms: z.number().int().min(1).max(300_000).optional(),
  subrequests: z.number().int().min(1).max(10_000_000).optional(),
  memory_mb: z.number().int().min(16).max(4096).optional(),
});

/**
 * Binding kinds Ledge does not implement yet, keyed by config field. `shape` tells where binding names
 * sit: `list` = array of objects (a single object is tolerated), `single` = one object,
 * `queues` = `producers[]`, `nested` = `bindings[]` (unsafe, logfwdr), `map` = `{ NAME: path }`.
 * The `kind` recorded in `AppConfig.unsupportedBindings` is the field name.
 */
export const UNSUPPORTED_BINDINGS: Record<string, { shape: "list" | "single" | "queues" | "nested" | "map"; nameKey: "binding" | "name" }> = {
  r2_buckets: { shape: "list", nameKey: "binding" },
  d1_databases: { shape: "list", nameKey: "binding" },
  hyperdrive: { shape: "list", nameKey: "binding" },
  vectorize: { shape: "list", nameKey: "binding" },
  analytics_engine_datasets: { shape: "list", nameKey: "binding" },
  dispatch_namespaces: { shape: "list", nameKey: "binding" },
  workflows: { shape: "list", nameKey: "binding" },
  mtls_certificates: { shape: "list", nameKey: "binding" },
  secrets_store_secrets: { shape: "list", nameKey: "binding" },
  pipelines: { shape: "list", nameKey: "binding" },
  worker_loaders: { shape: "list", nameKey: "binding" },
  vpc_services: { shape: "list", nameKey: "binding" },
  vpc_networks: { shape: "list", nameKey: "binding" },
  ai_search_namespaces: { shape: "list", nameKey: "binding" },
  ai_search: { shape: "list", nameKey: "binding" },
  agent_memory: { shape: "list", nameKey: "binding" },
  artifacts: { shape: "list", nameKey: "binding" },
  flagship: { shape: "list", nameKey: "binding" },
  send_email: { shape: "list", nameKey: "name" },
  ratelimits: { shape: "list", nameKey: "name" },
  ai: { shape: "single", nameKey: "binding" },
  browser: { shape: "single", nameKey: "binding" },
  images: { shape: "single", nameKey: "binding" },
  media: { shape: "single", nameKey: "binding" },
  stream: { shape: "single", nameKey: "binding" },
  version_metadata: { shape: "single", nameKey: "binding" },
  websearch: { shape: "single", nameKey: "binding" },
  unsafe_hello_world: { shape: "list", nameKey: "binding" },
  queues: { shape: "queues", nameKey: "binding" },
  unsafe: { shape: "nested", nameKey: "name" },
  logfwdr: { shape: "nested", nameKey: "name" },
};

/** Service-worker-only bindings: a map from binding name to a file path. Valid at the top level only. */
export const MAP_BINDINGS = ["wasm_modules", "text_blobs", "data_blobs"] as const;

function unsupportedBindingSchema(shape: string, nameKey: string): z.ZodType {
  // Loose objects: the kind-specific fields (bucket_name, database_id, ...) are not Ledge's business.
  const entry = z.looseObject({ [nameKey]: nonEmpty });
  switch (shape) {
    case "list":
      return z.union([z.array(entry), entry]);
    case "single":
      return entry;
    case "queues":
      return z.looseObject({ producers: z.array(entry).optional(), consumers: z.array(z.unknown()).optional() });
    default:
      return z.looseObject({ bindings: z.array(entry).optional() });
  }
}

const unsupportedBindingFields = Object.fromEntries(
  Object.entries(UNSUPPORTED_BINDINGS).map(([field, { shape, nameKey }]) => [field, unsupportedBindingSchema(shape, nameKey).optional()]),
);

/** Fields accepted both at the top level and inside `[env.<name>]`. */
const environmentShape = {
  // "" is allowed, as in wrangler: the Worker is then named after its folder (normalise.ts).
  name: named((name) => (name === "" ? undefined : workerNameProblem(name))).optional(),
  main: nonEmpty.optional(),
  compatibility_date: z.string().optional(),
  compatibility_flags: stringList.optional(),
  vars: z.record(z.string(), z.unknown()).optional(),
  secrets: z.object({ required: stringList.optional() }).optional(),
  durable_objects: z.object({ bindings: z.array(durableObjectBinding).optional() }).optional(),
  migrations: z.array(migration).optional(),
  exports: z.record(z.string(), exportEntry).optional(),
  kv_namespaces: z.array(kvNamespace).optional(),
  services: z.array(service).optional(),
  triggers: z.object({ crons: stringList.optional() }).optional(),
  route: route.optional(),
  routes: z.array(route).optional(),
  rules: z.array(rule).optional(),
  limits: limits.optional(),
  assets: z.looseObject({ binding: nonEmpty.optional(), directory: z.string().optional() }).optional(),
  ...unsupportedBindingFields,
  // Accepted without effect: deployment, observability and build settings that make no sense (or no
  // difference) on a self-hosted node. Some of them earn an informational warning in normalise.ts.
  account_id: ignored,
  workers_dev: ignored,
  preview_urls: ignored,
  placement: ignored,
  observability: ignored,
  logpush: ignored,
  upload_source_maps: ignored,
  compliance_region: ignored,
  usage_model: ignored,
  tail_consumers: ignored,
  streaming_tail_consumers: ignored,
  build: ignored,
  define: ignored,
  no_bundle: ignored,
  minify: ignored,
  keep_names: ignored,
  find_additional_modules: ignored,
  preserve_file_names: ignored,
  base_dir: ignored,
  tsconfig: ignored,
  jsx_factory: ignored,
  jsx_fragment: ignored,
  first_party_worker: ignored,
  containers: ignored,
  cloudchamber: ignored,
  connect: ignored,
  access: ignored,
  cache: ignored,
  previews: ignored,
  python_modules: ignored,
  node_compat: ignored,
};

export const environmentSchema = z.object(environmentShape);
export type RawEnvironment = z.infer<typeof environmentSchema>;

/** The whole file: the environment fields plus those only valid at the top level. */
export const topLevelSchema = z.object({
  ...environmentShape,
  // Environments are validated one at a time (only the selected one), as wrangler does.
  env: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  wasm_modules: z.record(z.string(), z.string()).optional(),
  text_blobs: z.record(z.string(), z.string()).optional(),
  data_blobs: z.record(z.string(), z.string()).optional(),
  $schema: ignored,
  dev: ignored,
  alias: ignored,
  site: ignored,
  keep_vars: ignored,
  send_metrics: ignored,
  addresses: ignored,
  dependencies_instrumentation: ignored,
  pages_build_output_dir: ignored,
  legacy_env: ignored,
});
export type RawTopLevel = z.infer<typeof topLevelSchema>;
