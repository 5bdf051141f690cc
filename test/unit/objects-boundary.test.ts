/**
 * Folder rules for src/objects (docs/architecture.md): it depends on nothing in src/runtime, which
 * hosts isolates and calls into objects/, and other folders reach it only through its contract,
 * src/objects/index.ts. Imports are read with TypeScript's own scanner, so type-only and dynamic
 * imports count too.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import ts from "typescript";

const root = resolve(import.meta.dirname, "../..");
const src = join(root, "src");
const objects = join(src, "objects");
const runtime = join(src, "runtime");

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Files a source file imports from this repository, as absolute paths of their `.ts` sources. */
function localImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => resolve(dirname(file), spec).replace(/\.js$/, ".ts"));
}

const inside = (dir: string, p: string) => p.startsWith(dir + "/");

test("no file under src/objects imports from src/runtime", () => {
  const offending = tsFiles(objects).flatMap((f) =>
    localImports(f)
      .filter((target) => inside(runtime, target))
      .map((target) => `${relative(root, f)} → ${relative(root, target)}`),
  );
  assert.deepEqual(offending, []);
});

test("other folders of src import src/objects only through src/objects/index.ts", () => {
  const offending = tsFiles(src)
    .filter((f) => !inside(objects, f))
    .flatMap((f) =>
      localImports(f)
        .filter((target) => inside(objects, target) && target !== join(objects, "index.ts"))
        .map((target) => `${relative(root, f)} → ${relative(root, target)}`),
    );
  assert.deepEqual(offending, []);
});

test("the check sees imports: src/runtime/isolate/routing.ts imports src/objects/index.ts", () => {
  assert.ok(localImports(join(runtime, "isolate", "routing.ts")).includes(join(objects, "index.ts")));
});
