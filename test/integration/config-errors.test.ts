/**
 * Config mistakes through the real CLI: each kind stops `ledge serve` before it listens, with one
 * clear message (no stack) naming the file, the field and what is expected, and exit code 1; so
 * do bad options and a port already in use (without hanging on the isolates already started).
 * Unknown fields only warn; bindings Ledge does not implement yet fail at first use, not at start.
 * The wording of every message is covered in test/unit/config-*.test.ts; this checks the CLI edge.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { basename, join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { removeDir, runLedge, startLedge, writeProject } from "../helpers/ledge.js";

const HEADER = 'name = "cfg"\nmain = "src/index.ts"\ncompatibility_date = "2026-01-15"\n';
const INDEX = { "src/index.ts": "export default { fetch: () => new Response('ok') };\n" };

const dirs: string[] = [];
after(() => {
  for (const d of dirs) removeDir(d);
});

function project(files: Record<string, string>): string {
  const dir = writeProject(files, "ledge-cfg-");
  dirs.push(dir);
  return dir;
}

/** Runs `ledge serve DIR` (it must fail), and returns stderr after the checks every failure shares. */
async function failsToStart(dir: string, extra: string[] = []): Promise<string> {
  // One isolate: the CLI boots its isolates while it reads the config, and stops them on failure.
  const r = await runLedge(["serve", dir, "--port", "0", "--isolates", "1", ...extra]);
  assert.equal(r.code, 1, `expected exit code 1, got ${r.code}:\n${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stdout, /Ready on/);
  assert.match(r.stderr, /^✘ /, "one message, marked as an error");
  assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+\)?\n/, `a config mistake is shown without a stack:\n${r.stderr}`);
  return r.stderr;
}

// Each case is its own short-lived process; a few at a time keeps the file fast on two cores.
describe("config and command-line errors stop the CLI with one clear message", { concurrency: 4 }, () => {
  test("no config file: names the folder and the files looked for", async () => {
    const dir = project(INDEX);
    const stderr = await failsToStart(dir);
    assert.match(stderr, new RegExp(`No config file found in ${dir.replace(/[/\\]/g, "\\$&")}`));
    assert.match(stderr, /wrangler\.json, wrangler\.jsonc, wrangler\.toml/);
  });

  test("malformed TOML: file, line and column, and the offending line", async () => {
    const stderr = await failsToStart(project({ ...INDEX, "wrangler.toml": 'name = "cfg"\nmain = "src/index.ts\n' }));
    assert.match(stderr, /wrangler\.toml:2:\d+: invalid TOML/);
    assert.match(stderr, /main = "src\/index\.ts/);
  });

  test("malformed JSON and JSONC: file, line and column", async () => {
    const json = await failsToStart(project({ ...INDEX, "wrangler.json": '{\n  "name": "cfg"\n  "main": "src/index.ts"\n}\n' }));
    assert.match(json, /wrangler\.json:3:\d+: invalid JSON/);
    const jsonc = await failsToStart(project({ ...INDEX, "wrangler.jsonc": '{\n  // comments are fine\n  "name": "cfg",\n  "main": [\n}\n' }));
    assert.match(jsonc, /wrangler\.jsonc:\d+:\d+: invalid JSON/);
  });

  test("a field of the wrong type: file, dotted field, what was found and what is expected", async () => {
    const stderr = await failsToStart(project({ ...INDEX, "wrangler.toml": `${HEADER}[limits]\ncpu_ms = "fast"\n` }));
    assert.match(stderr, /wrangler\.toml: limits\.cpu_ms: found "fast", expected a whole number of milliseconds/);
  });

  test("a missing main, and a main that does not exist", async () => {
    const missing = await failsToStart(project({ ...INDEX, "wrangler.toml": 'name = "cfg"\ncompatibility_date = "2026-01-15"\n' }));
    assert.match(missing, /wrangler\.toml: main: missing; expected the path of your Worker's entry module/);
    const absent = await failsToStart(project({ "wrangler.toml": HEADER }));
    assert.match(absent, /wrangler\.toml: main: the entry module .*src\/index\.ts does not exist/);
  });

  test("several problems are listed together, one per line", async () => {
    const stderr = await failsToStart(
      project({ ...INDEX, "wrangler.toml": `${HEADER}compatibility_flags = "nodejs_compat"\n[limits]\nmemory_mb = 8\n` }),
    );
    assert.match(stderr, /Found 2 problems in the config:/);
    assert.match(stderr, /wrangler\.toml: compatibility_flags: found "nodejs_compat", expected a list/);
    assert.match(stderr, /wrangler\.toml: limits\.memory_mb: found 8, expected a whole number of megabytes/);
  });

  test("a Durable Object binding to a class no migration declares", async () => {
    const stderr = await failsToStart(
      project({ ...INDEX, "wrangler.toml": `${HEADER}[[durable_objects.bindings]]\nname = "ROOM"\nclass_name = "Room"\n` }),
    );
    assert.match(stderr, /wrangler\.toml: durable_objects\.bindings\[0\]/);
    assert.match(stderr, /Room/);
    assert.match(stderr, /migrations/);
  });

  test("an invalid cron expression", async () => {
    const stderr = await failsToStart(project({ ...INDEX, "wrangler.toml": `${HEADER}[triggers]\ncrons = ["every minute"]\n` }));
    assert.match(stderr, /wrangler\.toml: triggers\.crons\[0\]/);
  });

  test("--config naming a file that does not exist", async () => {
    const dir = project({ ...INDEX, "wrangler.toml": HEADER });
    const stderr = await failsToStart(dir, ["--config", join(dir, "nope.toml")]);
    assert.match(stderr, /nope\.toml/);
  });

  test("a bad command-line option", async () => {
    const stderr = await failsToStart(project({ ...INDEX, "wrangler.toml": HEADER }), ["--isolates", "lots"]);
    assert.match(stderr, /--isolates must be a whole number/);
  });

  test("a port that is already in use", async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    try {
      const port = (taken.address() as AddressInfo).port;
      // failsToStart passes --port 0 first; the last --port wins.
      const stderr = await failsToStart(project({ ...INDEX, "wrangler.toml": HEADER }), ["--port", String(port)]);
      assert.match(stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});

// Issue #8: a malformed config gets a clear error, loses nothing, and never reaches outside its roots.
describe("configs that try to reach outside the project are refused before anything is touched", { concurrency: 4 }, () => {
  for (const [form, config] of [
    ["migrations", `${HEADER}[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Old"]\n[[migrations]]\ntag = "v2"\ndeleted_classes = ["x/../../../../keep"]\n`],
    ["exports", `${HEADER}[exports."x/../../../../keep"]\ntype = "durable-object"\nstate = "deleted"\n`],
  ] as const) {
    test(`a deleted class whose name is a path (${form}): refused, and the folder it points at survives`, async () => {
      // .ledge/state/do/cfg-x/../../../../keep is <project>/keep: outside the state folder.
      const dir = project({ ...INDEX, "wrangler.toml": config, "keep/precious.txt": "precious", ".ledge/state/do/cfg-Old/0.sqlite": "" });
      const stderr = await failsToStart(dir);
      assert.match(stderr, /wrangler\.toml: .*(deleted_classes\[0\]|exports\."x\/).*expected a JavaScript class name/);
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
      assert.equal(readFileSync(join(dir, "keep", "precious.txt"), "utf8"), "precious");
      assert.ok(existsSync(join(dir, ".ledge", "state", "do", "cfg-Old", "0.sqlite")), "nothing is deleted when the config is refused");
    });
  }

  test("main in another project, or an absolute path, is a config error that never shows the file", async () => {
    const other = project({ "secret.js": "password hunter2\n" });
    const dir = project({ "wrangler.toml": `name = "cfg"\nmain = ${JSON.stringify(join(other, "secret.js"))}\ncompatibility_date = "2026-01-15"\n` });
    const stderr = await failsToStart(dir);
    assert.match(stderr, /wrangler\.toml: main: ".*secret\.js" is outside the project folder/);
    assert.doesNotMatch(stderr, /hunter2/);
    const relative = await failsToStart(project({ "wrangler.toml": HEADER.replace("src/index.ts", "../other/src/index.js") }));
    assert.match(relative, /main: "\.\.\/other\/src\/index\.js" is outside the project folder/);
  });

  test("a build error in a file outside the project names it but does not show its contents", async () => {
    const other = project({ "secret.js": "password hunter2\n" });
    const dir = project({ "wrangler.toml": HEADER, "src/index.ts": `import x from ${JSON.stringify(join(other, "secret.js"))};\nexport default { fetch: () => new Response(String(x)) };\n` });
    const stderr = await failsToStart(dir);
    assert.match(stderr, /secret\.js:1:\d+: cannot be bundled \(the file is outside the project folder/);
    assert.doesNotMatch(stderr, /hunter2/);
  });

  test("assets.directory outside the project is refused", async () => {
    const stderr = await failsToStart(project({ ...INDEX, "wrangler.toml": `${HEADER}[assets]\ndirectory = "../../"\n` }));
    assert.match(stderr, /wrangler\.toml: assets\.directory: "\.\.\/\.\.\/" is outside the project folder/);
  });
});

describe("other malformed configs: one line naming file and field, never a stack", { concurrency: 4 }, () => {
  test("a JSONC config nested 100,000 deep", async () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const stderr = await failsToStart(project({ ...INDEX, "wrangler.jsonc": `{ "name": "cfg", "main": "src/index.ts", "vars": { "A": ${deep} } }` }));
    assert.match(stderr, /wrangler\.jsonc:1:\d+: invalid JSON: values are nested more than 100 levels deep/);
    assert.doesNotMatch(stderr, /RangeError/);
  });

  test("an invalid KV namespace id", async () => {
    const stderr = await failsToStart(project({ ...INDEX, "wrangler.toml": `${HEADER}[[kv_namespaces]]\nbinding = "KV"\nid = "../evil"\n` }));
    assert.match(stderr, /^✘ .*wrangler\.toml: kv_namespaces\[0\]\.id: found "\.\.\/evil" as the namespace id; expected/);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
    assert.doesNotMatch(stderr, /Uncaught exception/);
  });

  test("a 10,000-character name", async () => {
    const stderr = await failsToStart(project({ ...INDEX, "wrangler.toml": HEADER.replace('"cfg"', `"${"a".repeat(10_000)}"`) }));
    assert.match(stderr, /wrangler\.toml: name: found "a+\.\.\., expected a Worker name of at most 63 characters/);
    assert.ok(stderr.length < 500, `short message (${stderr.length} characters)`);
  });

  test("a build error names its file relative to the working directory, wherever ledge runs from", async () => {
    const dir = project({ "wrangler.toml": HEADER, "src/index.ts": "import x from './nope';\nexport default { fetch: () => new Response(x) };\n" });
    const elsewhere = project({});
    mkdirSync(join(elsewhere, "sub"));
    for (const cwd of [elsewhere, join(elsewhere, "sub"), dir, join(dir, "src")]) {
      const r = await runLedge(["serve", dir, "--port", "0", "--isolates", "1"], { cwd });
      assert.equal(r.code, 1, r.stderr);
      const file = /\n(\S+):1:15: Could not resolve "\.\/nope"/.exec(r.stderr)?.[1];
      assert.ok(file !== undefined, r.stderr);
      assert.ok(existsSync(resolve(cwd, file)), `${file} names an existing file from ${cwd}`);
      assert.equal(resolve(cwd, file), join(dir, "src", "index.ts"));
    }
  });
});

describe("what does not stop the CLI", () => {
  test('name = "" is accepted, as wrangler does, and the app is named after its folder', async () => {
    const dir = project({
      "wrangler.toml": HEADER.replace('"cfg"', '""'),
      "src/index.ts": "export default { fetch: () => { console.log('served'); return new Response('ok'); } };\n",
    });
    const ledge = await startLedge(dir, { args: ["--no-access-log", "--isolates", "1"] });
    try {
      assert.equal(await (await fetch(ledge.url)).text(), "ok");
      // Console lines carry the app's name.
      await ledge.waitFor(`[${basename(dir)} `);
    } finally {
      await ledge.stop();
    }
  });

  test("an unknown field is a warning with a suggestion, and the app is served", async () => {
    const dir = project({ ...INDEX, "wrangler.toml": `${HEADER}compatiblity_flags = ["nodejs_compat"]\n` });
    const ledge = await startLedge(dir, { args: ["--no-access-log"] });
    try {
      assert.match(ledge.output(), /compatiblity_flags: unknown field, ignored\. Did you mean "compatibility_flags"\?/);
      assert.equal(await (await fetch(ledge.url)).text(), "ok");
    } finally {
      await ledge.stop();
    }
  });

  test("a binding Ledge does not implement yet fails at first use with a clear message", async () => {
    const dir = project({
      "wrangler.toml": `${HEADER}[[r2_buckets]]\nbinding = "BUCKET"\nbucket_name = "files"\n`,
      "src/index.ts": `
export default {
  async fetch(_request: Request, env: { BUCKET: { get(key: string): Promise<unknown> } }): Promise<Response> {
    try {
      await env.BUCKET.get("key");
      return new Response("no error");
    } catch (err) {
      return new Response((err as Error).message, { status: 501 });
    }
  },
};
`,
    });
    const ledge = await startLedge(dir, { args: ["--no-access-log"] });
    try {
      const res = await fetch(ledge.url);
      assert.equal(res.status, 501);
      assert.match(await res.text(), /BUCKET.*not supported yet/);
    } finally {
      await ledge.stop();
    }
  });
});
