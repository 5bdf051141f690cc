/**
 * Durable Object bindings and class lifecycle: which classes exist after `migrations` (applied in
 * order) or the declarative `exports` map, and whether every local binding points at one of them.
 */
import { classNameProblem } from "../shared/names.js";
import { describeValue, formatPath, type FieldPath, type Problems } from "./internal.js";
import type { RawExport, RawMigration, RawTopLevel } from "./schema.js";
import type { DurableObjectBindingConfig, DurableObjectClassConfig } from "./types.js";

export interface DurableObjectLayout {
  bindings: DurableObjectBindingConfig[];
  classes: DurableObjectClassConfig[];
  deleted: string[];
  renamed: { from: string; to: string }[];
}

/** Where a class got its current state, for messages ("deleted by migrations[2]"). */
type Origins = Map<string, string>;

interface Lifecycle {
  live: Map<string, DurableObjectClassConfig["storage"]>;
  deleted: string[];
  renamed: { from: string; to: string }[];
  declaredBy: Origins;
  deletedBy: Origins;
}

function emptyLifecycle(): Lifecycle {
  return { live: new Map(), deleted: [], renamed: [], declaredBy: new Map(), deletedBy: new Map() };
}

export function resolveDurableObjects(
  raw: RawTopLevel,
  origin: (field: string) => FieldPath,
  problems: Problems,
): DurableObjectLayout {
  const migrations = raw.migrations ?? [];
  const exportsMap = raw.exports ?? {};
  const hasDurableObjectExports = Object.values(exportsMap).some((e) => e.type === "durable-object");
  let life = emptyLifecycle();
  if (migrations.length > 0 && hasDurableObjectExports) {
    problems.error(
      formatPath([...origin("exports"), "exports"]),
      `"migrations" and "exports" cannot both declare Durable Object classes; keep one of them. ` +
        `"exports" is the declarative form: ${problems.example("exports", { Counter: { type: "durable-object", storage: "sqlite" } })}`,
    );
  } else if (hasDurableObjectExports) {
    life = applyExports(exportsMap, origin("exports"), problems);
  } else {
    life = applyMigrations(migrations, origin("migrations"), problems);
  }

  const at = [...origin("durable_objects"), "durable_objects", "bindings"];
  const bindings: DurableObjectBindingConfig[] = [];
  (raw.durable_objects?.bindings ?? []).forEach((b, i) => {
    const field = formatPath([...at, i]);
    if (b.environment !== undefined) {
      problems.warn(`${field}.environment`, "ignored: Ledge has no service environments; script_name alone names the other Worker.");
    }
    bindings.push(b.script_name === undefined ? { name: b.name, className: b.class_name } : { name: b.name, className: b.class_name, scriptName: b.script_name });
    if (b.script_name !== undefined || life.live.has(b.class_name)) return;
    const deletedBy = life.deletedBy.get(b.class_name);
    if (deletedBy !== undefined) {
      problems.error(`${field}.class_name`, `binding "${b.name}" uses class "${b.class_name}", which ${deletedBy} deletes. Remove the binding, or stop deleting the class.`);
    } else {
      problems.error(`${field}.class_name`, `binding "${b.name}" uses class "${b.class_name}", which no migration declares. ${declareHint(b.class_name, migrations, hasDurableObjectExports, problems)}`);
    }
  });

  return {
    bindings,
    classes: [...life.live].map(([className, storage]) => ({ className, storage })),
    deleted: life.deleted,
    renamed: life.renamed,
  };
}

/** Cloudflare requires every class of this Worker to be declared before it can be bound. */
function declareHint(className: string, migrations: readonly RawMigration[], usesExports: boolean, problems: Problems): string {
  if (usesExports) {
    return `Declare it in "exports": ${problems.example(className, { type: "durable-object", storage: "sqlite" })}`;
  }
  const numbered = migrations.map((m) => /^v(\d+)$/.exec(m.tag)).filter((m) => m !== null);
  const next = numbered.length === migrations.length && numbered.length > 0 ? Math.max(...numbered.map((m) => Number(m[1]))) + 1 : migrations.length + 1;
  const tag = `v${next}`;
  if (problems.format === "toml") {
    return `Add a [[migrations]] entry with tag = "${tag}" and new_sqlite_classes = ["${className}"], as Cloudflare requires.`;
  }
  return `Add ${problems.example(undefined, { tag, new_sqlite_classes: [className] })} to "migrations", as Cloudflare requires.`;
}

function applyMigrations(migrations: readonly RawMigration[], prefix: FieldPath, problems: Problems): Lifecycle {
  const life = emptyLifecycle();
  const tags = new Map<string, number>();
  migrations.forEach((m, i) => {
    const here = formatPath([...prefix, "migrations", i]);
    const previous = tags.get(m.tag);
    if (previous !== undefined) {
      problems.error(`${here}.tag`, `tag "${m.tag}" is already used by ${formatPath([...prefix, "migrations", previous])}; every migration needs its own tag.`);
    } else tags.set(m.tag, i);

    const create = (list: string[] | undefined, key: string, storage: DurableObjectClassConfig["storage"]) =>
      (list ?? []).forEach((name, j) => {
        if (life.live.has(name)) {
          problems.error(`${here}.${key}[${j}]`, `class "${name}" is already declared by ${life.declaredBy.get(name)}.`);
          return;
        }
        if (life.deletedBy.has(name)) {
          // Cloudflare allows reusing the name of a deleted class. Ledge deletes a class's data when it
          // starts, so the name must leave the deleted list or the new class would lose its data.
          life.deleted.splice(life.deleted.indexOf(name), 1);
          life.deletedBy.delete(name);
        }
        life.live.set(name, storage);
        life.declaredBy.set(name, here);
      });
    create(m.new_classes, "new_classes", "kv");
    create(m.new_sqlite_classes, "new_sqlite_classes", "sqlite");

    (m.renamed_classes ?? []).forEach(({ from, to }, j) => {
      const field = `${here}.renamed_classes[${j}]`;
      const storage = life.live.get(from);
      if (storage === undefined) {
        problems.error(`${field}.from`, `class "${from}" cannot be renamed: no earlier migration declares it.`);
      } else if (life.live.has(to)) {
        problems.error(`${field}.to`, `class "${from}" cannot be renamed to "${to}": ${life.declaredBy.get(to)} already declares "${to}".`);
      } else {
        life.live.delete(from);
        life.live.set(to, storage);
        life.declaredBy.set(to, here);
        life.renamed.push({ from, to });
      }
    });

    (m.deleted_classes ?? []).forEach((name, j) => {
      if (!life.live.delete(name)) {
        problems.error(`${here}.deleted_classes[${j}]`, `class "${name}" cannot be deleted: no earlier migration declares it (or it was already renamed or deleted).`);
        return;
      }
      life.deleted.push(name);
      life.deletedBy.set(name, here);
    });

    (m.transferred_classes ?? []).forEach(({ to }, j) => {
      // The class becomes this Worker's, but no data is copied: Ledge has no account to transfer from.
      problems.warn(`${here}.transferred_classes[${j}]`, `transfers between Workers are not supported by Ledge; "${to}" starts empty.`);
      if (!life.live.has(to)) {
        life.live.set(to, "sqlite");
        life.declaredBy.set(to, here);
      }
    });
  });
  return life;
}

function applyExports(exportsMap: Record<string, RawExport>, prefix: FieldPath, problems: Problems): Lifecycle {
  const life = emptyLifecycle();
  const entries = Object.entries(exportsMap).filter(([className, e]) => {
    if (e.type !== "durable-object") return false;
    // The key is the class name, which names the class's storage folder: it must be a name, not a path.
    const expected = classNameProblem(className);
    if (expected !== undefined) {
      problems.error(formatPath([...prefix, "exports", className]), `found the class name ${describeValue(className, problems.format)}, expected ${expected}.`);
    }
    return expected === undefined;
  });
  const isLive = (e: RawExport) => e.state === undefined || e.state === "created" || e.state === "expecting-transfer";
  for (const [className, entry] of entries) {
    const here = formatPath([...prefix, "exports", className]);
    if (isLive(entry)) {
      life.live.set(className, entry.storage === "legacy-kv" ? "kv" : "sqlite");
      life.declaredBy.set(className, here);
      if (entry.state === "expecting-transfer") {
        problems.warn(`${here}.state`, `transfers between Workers are not supported by Ledge; "${className}" starts empty.`);
      }
    }
  }
  for (const [className, entry] of entries) {
    const here = formatPath([...prefix, "exports", className]);
    if (entry.state === "deleted") {
      life.deleted.push(className);
      life.deletedBy.set(className, here);
    } else if (entry.state === "transferred") {
      problems.warn(`${here}.state`, `transfers between Workers are not supported by Ledge; the class is treated as gone and its local data is kept.`);
    } else if (entry.state === "renamed") {
      const to = entry.renamed_to;
      if (to === undefined) {
        problems.error(`${here}.renamed_to`, `missing; a class with state "renamed" must name its new class. Example: ${problems.example("renamed_to", "NewName")}`);
      } else if (exportsMap[to] === undefined || exportsMap[to].type !== "durable-object" || !isLive(exportsMap[to])) {
        problems.error(`${here}.renamed_to`, `"${to}" must also be listed in exports as a live class, e.g. ${problems.example(to, { type: "durable-object", storage: entry.storage ?? "sqlite" })}`);
      } else {
        life.renamed.push({ from: className, to });
      }
    }
  }
  return life;
}
