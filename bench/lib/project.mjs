/** Writes a throwaway Workers project (wrangler.toml plus source files) into a temp directory. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDir } from "./procs.mjs";

/**
 * @param {string} name     app name, also the temp dir prefix
 * @param {string} toml     the wrangler.toml text
 * @param {Record<string, string>} files  relative path → contents
 * @returns {string} the project directory
 */
export function writeProject(name, toml, files) {
  const dir = tempDir(name);
  writeFileSync(join(dir, "wrangler.toml"), toml);
  for (const [rel, text] of Object.entries(files)) {
    const full = join(dir, rel);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  return dir;
}

/** The minimal wrangler.toml; `extra` is appended verbatim (bindings, migrations). */
export function wranglerToml(name, extra = "") {
  return `name = "${name}"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n${extra}`;
}

/** A config with one SQLite-backed Durable Object class bound as `binding`. */
export function durableObjectToml(name, binding, className) {
  return wranglerToml(
    name,
    `
[[durable_objects.bindings]]
name = "${binding}"
class_name = "${className}"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["${className}"]
`,
  );
}

export const HELLO_WORKER = `export default { fetch() { return new Response("Hello World!") } }\n`;
