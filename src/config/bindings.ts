/**
 * KV namespaces, bindings Ledge does not implement yet, and the check that every name on `env` is
 * used once.
 */
import { kvNamespaceIdProblem } from "../shared/names.js";
import { describeValue, formatPath, isRecord, type FieldPath, type Problems } from "./internal.js";
import { MAP_BINDINGS, UNSUPPORTED_BINDINGS, type RawTopLevel } from "./schema.js";
import type { KvNamespaceBindingConfig } from "./types.js";

/**
 * `kv_namespaces`, with the id defaulting to the binding name as in `wrangler dev`. The id names the
 * namespace's file in the state folder, so it must be a name, not a path (src/shared/names.ts).
 */
export function resolveKvNamespaces(raw: RawTopLevel, origin: (field: string) => FieldPath, problems: Problems): KvNamespaceBindingConfig[] {
  const at = [...origin("kv_namespaces"), "kv_namespaces"];
  return (raw.kv_namespaces ?? []).map((kv, i) => {
    const id = kv.id ?? kv.binding;
    const expected = kvNamespaceIdProblem(id);
    if (expected !== undefined) {
      const field = formatPath([...at, i, kv.id === undefined ? "binding" : "id"]);
      const role = kv.id === undefined ? "the binding name, used as the namespace id because id is not set" : "the namespace id";
      problems.error(field, `found ${describeValue(id, problems.format)} as ${role}; expected ${expected}. Example: ${problems.example("id", "cache")}`);
    }
    return { binding: kv.binding, id };
  });
}

/** A name that ends up on `env`, with the place it was declared (for "used twice" messages). */
export interface NamedBinding {
  name: string;
  declaredAt: string;
}

export interface UnsupportedBinding {
  binding: string;
  kind: string;
}

/**
 * Lists bindings of kinds Ledge does not implement. They load without error: the runtime puts an
 * object on `env` that throws "not supported yet" when used, so a Worker that only touches R2 on one
 * route still serves every other route.
 */
export function collectUnsupportedBindings(
  raw: RawTopLevel,
  origin: (field: string) => FieldPath,
  problems: Problems,
): { bindings: UnsupportedBinding[]; named: NamedBinding[] } {
  const bindings: UnsupportedBinding[] = [];
  const named: NamedBinding[] = [];
  const add = (kind: string, name: string, p: FieldPath) => {
    bindings.push({ binding: name, kind });
    named.push({ name, declaredAt: formatPath(p) });
  };
  const record = raw as Record<string, unknown>;

  for (const [kind, { shape, nameKey }] of Object.entries(UNSUPPORTED_BINDINGS)) {
    const value = record[kind];
    if (value === undefined) continue;
    const at = [...origin(kind), kind];
    const fromEntries = (entries: unknown, p: FieldPath) => {
      if (!Array.isArray(entries)) return;
      entries.forEach((e, i) => {
        if (isRecord(e) && typeof e[nameKey] === "string") add(kind, e[nameKey], [...p, i, nameKey]);
      });
    };
    if (shape === "queues" && isRecord(value)) {
      fromEntries(value.producers, [...at, "producers"]);
      if (Array.isArray(value.consumers) && value.consumers.length > 0) {
        problems.warn(formatPath([...at, "consumers"]), "queue consumers are not supported by Ledge yet; this Worker will not receive queue messages.");
      }
    } else if (shape === "nested" && isRecord(value)) {
      fromEntries(value.bindings, [...at, "bindings"]);
    } else if (Array.isArray(value)) {
      fromEntries(value, at);
    } else if (isRecord(value) && typeof value[nameKey] === "string") {
      add(kind, value[nameKey], [...at, nameKey]);
    }
  }

  // Service-worker-only bindings map a name to a file; module Workers import such files instead.
  for (const kind of MAP_BINDINGS) {
    for (const name of Object.keys(raw[kind] ?? {})) add(kind, name, [kind, name]);
  }
  if (raw.assets?.binding !== undefined) add("assets", raw.assets.binding, [...origin("assets"), "assets", "binding"]);
  return { bindings, named };
}

/**
 * Every property of `env` must have one meaning. Two declarations of the same name (a var and a KV
 * namespace both called DATA) would silently shadow one another, so this is an error that names both.
 */
export function checkDuplicateBindings(named: readonly NamedBinding[], problems: Problems): void {
  const first = new Map<string, NamedBinding>();
  for (const binding of named) {
    const earlier = first.get(binding.name);
    if (earlier === undefined) {
      first.set(binding.name, binding);
      continue;
    }
    problems.error(
      binding.declaredAt,
      `binding name "${binding.name}" is also declared by ${earlier.declaredAt}; every binding on env needs its own name. Rename one of them.`,
    );
  }
}
