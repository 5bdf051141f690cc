/**
 * Hostile or generated config files end in one clear ConfigError naming the file, never in a stack
 * from a parser: deep nesting (JSON, TOML lists, TOML dotted keys), a field hidden behind
 * `__proto__`, and syntax errors on very long lines.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { configErrorOf, projectsPerTest, TOML_HEADER } from "../fixtures/config/project.js";

const { project } = projectsPerTest();

const DEEP = 100_000;
const JSON_HEAD = '{ "name": "app", "main": "src/index.ts", "compatibility_date": "2026-01-15"';

/** One line, naming the file, short enough to read, without a stack. */
function assertOneClearLine(message: string, file: RegExp): void {
  assert.match(message.split("\n")[0]!, file);
  assert.ok(message.length < 600, `the message is short (${message.length} characters)`);
  assert.doesNotMatch(message, /RangeError|Maximum call stack|\n\s+at /);
}

describe("nesting deeper than 100 levels", () => {
  test("JSONC nested 100,000 deep names the file, line and column", async () => {
    const p = project({ "wrangler.jsonc": `${JSON_HEAD}, "vars": { "A": ${"[".repeat(DEEP)}${"]".repeat(DEEP)} } }` });
    const message = await configErrorOf(loadConfig(p.dir));
    assertOneClearLine(message, /wrangler\.jsonc:1:\d+: invalid JSON: values are nested more than 100 levels deep \(line 1, column \d+\)$/);
  });

  test("TOML lists nested 100,000 deep", async () => {
    const p = project({ "wrangler.toml": `${TOML_HEADER}[vars]\nA = ${"[".repeat(DEEP)}${"]".repeat(DEEP)}\n` });
    assertOneClearLine(await configErrorOf(loadConfig(p.dir)), /wrangler\.toml:5:\d+: invalid TOML: values are nested more than 100 levels deep/);
  });

  test("TOML dotted keys 100,000 deep", async () => {
    const keys = Array.from({ length: DEEP }, () => "k").join(".");
    for (const body of [`[vars.${keys}]\nx = 1\n`, `[vars]\n${keys} = 1\n`]) {
      const p = project({ "wrangler.toml": `${TOML_HEADER}${body}` });
      assertOneClearLine(await configErrorOf(loadConfig(p.dir)), /wrangler\.toml: invalid TOML: values are nested more than 100 levels deep \(counting every table, dotted key and list\)\.$/);
    }
  });

  test("exactly 100 levels still load, in both formats", async () => {
    // The top-level object is the first level, vars the second, A's value the third.
    const json = project({ "wrangler.json": `${JSON_HEAD}, "vars": { "A": ${"[".repeat(98)}${"]".repeat(98)} } }` });
    assert.equal(JSON.stringify((await loadConfig(json.dir)).vars.A).length, 196);
    const toml = project({ "wrangler.toml": `${TOML_HEADER}[vars]\nA = ${"[".repeat(98)}${"]".repeat(98)}\n` });
    assert.equal(JSON.stringify((await loadConfig(toml.dir)).vars.A).length, 196);
    for (const tooDeep of [
      project({ "wrangler.json": `${JSON_HEAD}, "vars": { "A": ${"[".repeat(99)}${"]".repeat(99)} } }` }),
      project({ "wrangler.toml": `${TOML_HEADER}[vars]\nA = ${"[".repeat(99)}${"]".repeat(99)}\n` }),
    ]) {
      assert.match(await configErrorOf(loadConfig(tooDeep.dir)), /nested more than 100 levels/);
    }
  });
});

describe("__proto__ keys are ordinary unknown fields", () => {
  test("JSON: a field behind __proto__ is not read as if it were written", async () => {
    const hidden = project({ "wrangler.json": '{ "__proto__": { "main": "src/index.ts" }, "name": "app", "compatibility_date": "2026-01-15" }' });
    assert.match(await configErrorOf(loadConfig(hidden.dir)), /wrangler\.json: main: missing/);
    const warned = project({ "wrangler.json": `${JSON_HEAD}, "__proto__": { "x": 1 } }` });
    assert.deepEqual((await loadConfig(warned.dir)).warnings, ["__proto__: unknown field, ignored. Check its spelling against wrangler's configuration docs."]);
  });

  test("TOML: the same for a [__proto__] table", async () => {
    const p = project({ "wrangler.toml": `name = "app"\ncompatibility_date = "2026-01-15"\n["__proto__"]\nmain = "src/index.ts"\n` });
    assert.match(await configErrorOf(loadConfig(p.dir)), /wrangler\.toml: main: missing/);
  });
});

test("a syntax error on a very long line shows an excerpt around the column, with the caret under it", async () => {
  const p = project({ "wrangler.json": `${JSON_HEAD}, "vars": { "A": "${"x".repeat(5000)}" "B": 1 } }` });
  const message = await configErrorOf(loadConfig(p.dir));
  const [first, excerpt, caret] = message.split("\n");
  const column = Number(/:1:(\d+): invalid JSON: expected a comma/.exec(first!)![1]);
  assert.ok(column > 5000);
  assert.ok(excerpt!.length < 140, `excerpt of ${excerpt!.length} characters`);
  assert.match(excerpt!, /^ {4}\.\.\.x+" "B": 1 } }$/);
  assert.equal(excerpt![caret!.indexOf("^")], '"', "the caret points at the unexpected token");
});
