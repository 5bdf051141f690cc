import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { DEFAULT_MODULE_RULES, loadConfig } from "../../src/config/index.js";
import { configErrorOf, makeProject, type Project } from "../fixtures/config/project.js";

const projects: Project[] = [];
function toml(body: string): Project {
  const p = makeProject({ "wrangler.toml": `main = "src/index.ts"\n${body}` });
  projects.push(p);
  return p;
}
afterEach(() => {
  for (const p of projects.splice(0)) p.remove();
});

const DATE = 'compatibility_date = "2026-01-15"\n';

describe("module rules", () => {
  test("without user rules, wrangler's defaults apply in order", async () => {
    const config = await loadConfig(toml(DATE).dir);
    assert.deepEqual(config.rules, [
      { type: "Text", globs: ["**/*.txt", "**/*.html", "**/*.sql"], fallthrough: false },
      { type: "Data", globs: ["**/*.bin"], fallthrough: false },
      { type: "CompiledWasm", globs: ["**/*.wasm", "**/*.wasm?module"], fallthrough: false },
    ]);
    assert.deepEqual(config.rules, DEFAULT_MODULE_RULES);
  });

  test("user rules come first; fallthrough = true keeps later rules of the same type", async () => {
    const config = await loadConfig(toml(`${DATE}[[rules]]\ntype = "Text"\nglobs = ["**/*.md"]\nfallthrough = true\n[[rules]]\ntype = "ESModule"\nglobs = ["**/*.mjs"]\n`).dir);
    assert.deepEqual(
      config.rules.map((r) => `${r.type}:${r.globs.join(",")}`),
      ["Text:**/*.md", "ESModule:**/*.mjs", "Text:**/*.txt,**/*.html,**/*.sql", "Data:**/*.bin", "CompiledWasm:**/*.wasm,**/*.wasm?module"],
    );
    assert.deepEqual(config.warnings, []);
  });

  test("a user rule without fallthrough replaces the default of its type, with a warning", async () => {
    const config = await loadConfig(toml(`${DATE}[[rules]]\ntype = "Data"\nglobs = ["**/*.dat"]\n`).dir);
    assert.deepEqual(
      config.rules.map((r) => `${r.type}:${r.globs.join(",")}`),
      ["Data:**/*.dat", "Text:**/*.txt,**/*.html,**/*.sql", "CompiledWasm:**/*.wasm,**/*.wasm?module"],
    );
    assert.equal(config.warnings.length, 1);
    assert.match(config.warnings[0]!, /^rules: the default rule for \*\*\/\*\.bin is ignored because rules\[0\] of type Data comes first without fallthrough = true/);
  });

  test("fallthrough = false drops later rules of the type silently, as wrangler does", async () => {
    const config = await loadConfig(
      toml(`${DATE}[[rules]]\ntype = "Data"\nglobs = ["**/*.dat"]\nfallthrough = false\n[[rules]]\ntype = "Data"\nglobs = ["**/*.raw"]\n`).dir,
    );
    assert.deepEqual(config.rules.filter((r) => r.type === "Data").map((r) => r.globs), [["**/*.dat"]]);
    assert.deepEqual(config.warnings, []);
  });

  test("Python module types are rejected by field", async () => {
    const message = await configErrorOf(loadConfig(toml(`${DATE}[[rules]]\ntype = "PythonModule"\nglobs = ["**/*.py"]\n`).dir));
    assert.match(message, /wrangler\.toml: rules\[0\]\.type: module type "PythonModule" is not supported by Ledge/);
  });
});

describe("nodejs_compat", () => {
  test("is on with the nodejs_compat or nodejs_compat_v2 flag, whatever the date", async () => {
    assert.equal((await loadConfig(toml(`compatibility_date = "2024-01-01"\ncompatibility_flags = ["nodejs_compat"]\n`).dir)).nodejsCompat, true);
    assert.equal((await loadConfig(toml(`compatibility_date = "2024-01-01"\ncompatibility_flags = ["nodejs_compat_v2"]\n`).dir)).nodejsCompat, true);
  });

  test("is off before 2026-08-04 without the flag", async () => {
    assert.equal((await loadConfig(toml(`compatibility_date = "2026-08-03"\n`).dir)).nodejsCompat, false);
  });

  test("is on by default from 2026-08-04, unless no_nodejs_compat is set", async () => {
    assert.equal((await loadConfig(toml(`compatibility_date = "2026-08-04"\n`).dir)).nodejsCompat, true);
    assert.equal((await loadConfig(toml(`compatibility_date = "2026-09-01"\ncompatibility_flags = ["no_nodejs_compat"]\n`).dir)).nodejsCompat, false);
  });

  test("follows the default date when compatibility_date is absent", async () => {
    const p = toml("");
    assert.equal((await loadConfig(p.dir, {}, { now: () => new Date("2026-12-01T00:00:00Z") })).nodejsCompat, true);
    assert.equal((await loadConfig(p.dir, {}, { now: () => new Date("2026-01-01T00:00:00Z") })).nodejsCompat, false);
  });

  test("nodejs_compat and no_nodejs_compat together are an error", async () => {
    const message = await configErrorOf(loadConfig(toml(`${DATE}compatibility_flags = ["nodejs_compat", "no_nodejs_compat"]\n`).dir));
    assert.match(message, /wrangler\.toml: compatibility_flags: "nodejs_compat" and "no_nodejs_compat" cannot both be set/);
  });
});
