/**
 * Bundling through the real CLI: TypeScript, npm dependencies from the project's own node_modules
 * (ESM, CommonJS, and the `workerd` export condition), `cloudflare:workers`, wrangler's module
 * rules (.txt/.html text, .bin data, .wasm modules), vars from the config, `.dev.vars` and `--var`;
 * examples/hello with its real npm dependency (hono); and build errors with file:line.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { REPO, removeDir, runLedge, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

/** A wasm module exporting `add(i32, i32) -> i32`, written out byte by byte. */
const ADD_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, // type section: (i32, i32) -> i32
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, // export "add" = function 0
  0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, // body: local.get 0, local.get 1, i32.add
]);

const PROJECT: Record<string, string | Uint8Array> = {
  "wrangler.toml": [
    'name = "bundled"',
    'main = "src/index.ts"',
    'compatibility_date = "2026-01-15"',
    "",
    "[vars]",
    'FROM_TOML = "toml"',
    'OVERRIDDEN = "toml"',
    'LIMITS = { max = 3 }',
  ].join("\n"),
  ".dev.vars": "SECRET=from-dev-vars\n",
  "src/index.ts": `
import { WorkerEntrypoint, env as importedEnv } from "cloudflare:workers";
import { shout } from "shout";
import leftPad from "cjs-pad";
import { where } from "conditional";
import { Color, describe } from "./lib/colors";
import type { Palette } from "./lib/colors";
import notes from "./assets/notes.txt";
import page from "./assets/page.html";
import blob from "./assets/blob.bin";
import addModule from "./assets/add.wasm";

interface Env {
  FROM_TOML: string;
  OVERRIDDEN: string;
  SECRET: string;
  LIMITS: { max: number };
}

const palette: Palette = [Color.Red, Color.Blue];

export default class extends WorkerEntrypoint<Env> {
  async fetch(): Promise<Response> {
    const { exports } = await WebAssembly.instantiate(addModule);
    return Response.json({
      shout: shout("hi"),
      pad: leftPad("7", 3),
      where,
      colors: palette.map(describe),
      notes: notes.trim(),
      page: page.includes("<h1>") ? "html" : "missing",
      blob: [...new Uint8Array(blob)],
      add: (exports.add as (a: number, b: number) => number)(2, 40),
      env: {
        fromToml: this.env.FROM_TOML,
        overridden: this.env.OVERRIDDEN,
        secret: this.env.SECRET,
        limits: this.env.LIMITS,
        importedSame: importedEnv.FROM_TOML === this.env.FROM_TOML,
      },
    });
  }
}
`,
  "src/lib/colors.ts": `
export enum Color {
  Red = "red",
  Blue = "blue",
}
export type Palette = Color[];
export const describe = (c: Color): string => \`color:\${c}\`;
`,
  "src/assets/notes.txt": "plain text notes\n",
  "src/assets/page.html": "<!doctype html><h1>page</h1>",
  "src/assets/blob.bin": new Uint8Array([0, 1, 254, 255]),
  "src/assets/add.wasm": ADD_WASM,
  // An ESM package with a "module" entry.
  "node_modules/shout/package.json": JSON.stringify({ name: "shout", version: "1.0.0", module: "./esm.js", main: "./cjs.js" }),
  "node_modules/shout/esm.js": "export const shout = (s) => s.toUpperCase() + '!';\n",
  "node_modules/shout/cjs.js": "exports.shout = () => { throw new Error('the CommonJS entry was used instead of the module one'); };\n",
  // A CommonJS package.
  "node_modules/cjs-pad/package.json": JSON.stringify({ name: "cjs-pad", version: "1.0.0", main: "index.js" }),
  "node_modules/cjs-pad/index.js": "module.exports = function leftPad(s, n) { return s.padStart(n, '0'); };\n",
  // A package with per-runtime entries: Workers pick "workerd".
  "node_modules/conditional/package.json": JSON.stringify({
    name: "conditional",
    version: "1.0.0",
    exports: { ".": { workerd: "./workerd.js", node: "./node.js", default: "./default.js" } },
  }),
  "node_modules/conditional/workerd.js": "export const where = 'workerd';\n",
  "node_modules/conditional/node.js": "export const where = 'node';\n",
  "node_modules/conditional/default.js": "export const where = 'default';\n",
};

const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe("a TypeScript project with npm dependencies and module rules", () => {
  let ledge: RunningLedge;
  before(async () => {
    const dir = writeProject(PROJECT, "ledge-bundle-");
    cleanups.push(() => removeDir(dir));
    ledge = await startLedge(dir, { args: ["--var", "OVERRIDDEN:flag", "--no-access-log"] });
    cleanups.push(() => ledge.stop());
  });

  test("every import is bundled the way wrangler bundles it", async () => {
    const res = await fetch(ledge.url);
    assert.equal(res.status, 200, `${await res.clone().text()}\n${ledge.output()}`);
    assert.deepEqual(await res.json(), {
      shout: "HI!",
      pad: "007",
      where: "workerd",
      colors: ["color:red", "color:blue"],
      notes: "plain text notes",
      page: "html",
      blob: [0, 1, 254, 255],
      add: 42,
      env: { fromToml: "toml", overridden: "flag", secret: "from-dev-vars", limits: { max: 3 }, importedSame: true },
    });
  });

  test("the secret's value is never printed", () => {
    assert.doesNotMatch(ledge.output(), /from-dev-vars/);
  });
});

describe("examples/hello", () => {
  let ledge: RunningLedge;
  before(async () => {
    const state = mkdtempSync(join(tmpdir(), "ledge-hello-state-"));
    cleanups.push(() => removeDir(state));
    ledge = await startLedge(join(REPO, "examples", "hello"), { args: ["--persist-to", state, "--colo", "FRA", "--no-access-log"] });
    cleanups.push(() => ledge.stop());
  });

  test("serves its hono routes with its vars", async () => {
    const res = await fetch(ledge.url);
    assert.equal(await res.text(), "Hello from Ledge!");
    const json = (await (await fetch(`${ledge.url}/json`)).json()) as Record<string, unknown>;
    assert.equal(json.greeting, "Hello");
    assert.equal(json.colo, "FRA");
    const echo = await fetch(`${ledge.url}/echo`, { method: "POST", body: "round trip" });
    assert.equal(await echo.text(), "round trip");
  });
});

describe("build errors", () => {
  async function failingBuild(files: Record<string, string>): Promise<string> {
    const dir = writeProject({ "wrangler.toml": 'name = "broken"\nmain = "src/index.ts"\ncompatibility_date = "2026-01-15"\n', ...files });
    cleanups.push(() => removeDir(dir));
    const r = await runLedge(["serve", dir, "--port", "0"]);
    assert.equal(r.code, 1, `expected exit code 1:\n${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stdout, /Ready on/);
    assert.doesNotMatch(r.stderr, /\n\s+at .*\.js:\d+/, "a build error is a user error: no stack");
    return r.stderr;
  }

  test("a missing npm package is named with file:line", async () => {
    const stderr = await failingBuild({ "src/index.ts": '\nimport missing from "not-installed";\nexport default { fetch: () => new Response(missing) };\n' });
    assert.match(stderr, /src\/index\.ts:2:\d+: Could not resolve "not-installed"/);
  });

  test("a TypeScript syntax error is shown with file:line and the offending line", async () => {
    const stderr = await failingBuild({
      "src/index.ts": 'import { x } from "./x";\nexport default { fetch: () => new Response(x) };\n',
      "src/x.ts": "export const x: string = (;\n",
    });
    assert.match(stderr, /Build failed with 1 error/);
    assert.match(stderr, /src\/x\.ts:1:\d+: /);
    assert.match(stderr, /export const x: string = \(;/);
  });
});
