/**
 * Names in a config that become parts of file paths (class names, KV namespace ids, Worker names,
 * `script_name`) must be names: a path such as `x/../../home` is refused with a message naming the
 * file, the field and the rule. Also Cloudflare's Worker name rule, and wrangler's `name = ""`.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, test } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { configErrorOf, projectsPerTest, TOML_HEADER } from "../fixtures/config/project.js";

const { project, toml } = projectsPerTest();
const folders: string[] = [];
afterEach(() => {
  for (const d of folders.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const TRAVERSAL = "x/../../../../outside/victim";
const CLASS_RULE = 'expected a JavaScript class name of at most 128 characters: ASCII letters, digits, "_" and "\\$", not starting with a digit';

describe("class names are JavaScript class names, not paths", () => {
  test("deleted_classes with a path is refused, naming the migration and the entry", async () => {
    const p = toml(`${TOML_HEADER}[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Counter"]\n[[migrations]]\ntag = "v2"\ndeleted_classes = ["${TRAVERSAL}"]\n`);
    const message = await configErrorOf(loadConfig(p.dir));
    assert.equal(
      message,
      `${path.join(p.dir, "wrangler.toml")}: migrations[1].deleted_classes[0]: found "${TRAVERSAL}", ${CLASS_RULE.replace("\\$", "$")}. Example: "OldCounter"`,
    );
  });

  test("every migration list and rename refuses a path", async () => {
    const p = toml(
      `${TOML_HEADER}[[migrations]]\ntag = "v1"\nnew_classes = ["a/b"]\nnew_sqlite_classes = ["..", "Good"]\n` +
        `renamed_classes = [{ from = "Good", to = "c\\\\d" }]\ntransferred_classes = [{ from = "X", from_script = "other", to = "e/f" }]\n`,
    );
    const message = await configErrorOf(loadConfig(p.dir));
    for (const field of ["new_classes[0]", "new_sqlite_classes[0]", "renamed_classes[0].to", "transferred_classes[0].to"]) {
      assert.match(message, new RegExp(`migrations\\[0\\]\\.${field.replace(/[[\].]/g, "\\$&")}: found .*, ${CLASS_RULE}`), field);
    }
    assert.doesNotMatch(message, /Good/, "a valid name is not reported");
  });

  test("the same rule holds through exports: the key and renamed_to", async () => {
    const config = (exports: Record<string, unknown>) => {
      return loadConfig(project({ "wrangler.json": JSON.stringify({ name: "app", main: "src/index.ts", compatibility_date: "2026-01-15", exports }) }).dir);
    };
    const key = await configErrorOf(
      config({
        [TRAVERSAL]: { type: "durable-object", state: "deleted" },
        // Named Worker entrypoints are not storage; they are left to the runtime.
        "not/a/class": { type: "worker" },
      }),
    );
    const escaped = TRAVERSAL.replace(/[.]/g, "\\.");
    assert.match(key, new RegExp(`wrangler\\.json: exports\\."${escaped}": found the class name "${escaped}", ${CLASS_RULE}\\.$`));
    assert.doesNotMatch(key, /not\/a\/class/);
    const renamed = await configErrorOf(config({ Old: { type: "durable-object", state: "renamed", renamed_to: "../New" } }));
    assert.match(renamed, new RegExp(`exports\\.Old\\.renamed_to: found "\\.\\./New", ${CLASS_RULE}`));
  });

  test("a binding's class_name and script_name are names too", async () => {
    const p = toml(`${TOML_HEADER}[[durable_objects.bindings]]\nname = "ROOM"\nclass_name = "Room"\nscript_name = "../other"\n[[durable_objects.bindings]]\nname = "R2"\nclass_name = "a/b"\nscript_name = "other"\n`);
    const message = await configErrorOf(loadConfig(p.dir));
    assert.match(message, /durable_objects\.bindings\[0\]\.script_name: found "\.\.\/other", expected a Worker name of at most 63 characters: letters, digits/);
    assert.match(message, new RegExp(`durable_objects\\.bindings\\[1\\]\\.class_name: found "a/b", ${CLASS_RULE}`));
  });

  test("identifiers with _ and $ are accepted", async () => {
    const p = toml(`${TOML_HEADER}[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["_Private", "$Dollar", "Counter2"]\n`);
    assert.deepEqual((await loadConfig(p.dir)).durableObjectClasses.map((c) => c.className), ["_Private", "$Dollar", "Counter2"]);
  });
});

describe("KV namespace ids name a file, so they cannot be paths", () => {
  test("an id with a path is refused with one line naming the field", async () => {
    const p = toml(`${TOML_HEADER}[[kv_namespaces]]\nbinding = "KV"\nid = "../../evil"\n`);
    const message = await configErrorOf(loadConfig(p.dir));
    assert.equal(message.split("\n").length, 1, message);
    assert.match(message, /wrangler\.toml: kv_namespaces\[0\]\.id: found "\.\.\/\.\.\/evil" as the namespace id; expected a namespace id that is not empty, "\." or "\.\.", and contains no "\/", "\\" or NUL\. Example: id = "cache"/);
  });

  test("without id, the binding name is the id and is checked as one", async () => {
    const p = toml(`${TOML_HEADER}[[kv_namespaces]]\nbinding = ".."\n`);
    assert.match(await configErrorOf(loadConfig(p.dir)), /kv_namespaces\[0\]\.binding: found "\.\." as the binding name, used as the namespace id because id is not set/);
  });

  test("an id too long for a file name is refused; ordinary ids pass", async () => {
    const long = toml(`${TOML_HEADER}[[kv_namespaces]]\nbinding = "KV"\nid = "${"é".repeat(40)}"\n`);
    assert.match(await configErrorOf(loadConfig(long.dir)), /kv_namespaces\[0\]\.id: .*too long: 240 characters once encoded for its file name, at most 200/);
    const ok = toml(`${TOML_HEADER}[[kv_namespaces]]\nbinding = "KV"\nid = "0f2ac74b498b48028cb68387c421e279"\n[[kv_namespaces]]\nbinding = "CACHE"\n`);
    assert.deepEqual((await loadConfig(ok.dir)).kvNamespaces.map((kv) => kv.id), ["0f2ac74b498b48028cb68387c421e279", "CACHE"]);
  });
});

describe("Worker names follow Cloudflare's rule", () => {
  const body = TOML_HEADER.split("\n").slice(1).join("\n");

  test("a 10,000-character name is refused in one short line", async () => {
    const p = toml(`name = "${"a".repeat(10_000)}"\n${body}`);
    const message = await configErrorOf(loadConfig(p.dir));
    assert.ok(message.length < 400, `the message quotes a short excerpt, not the whole name (${message.length} characters)`);
    assert.match(message, /wrangler\.toml: name: found "a{50,}\.\.\., expected a Worker name of at most 63 characters: lowercase letters, digits, "-" and "_", not starting with "-" \(Cloudflare's rule\)\. Example: name = "my-worker"/);
  });

  test("63 characters pass, 64 do not; upper case, dots and a leading dash do not", async () => {
    assert.equal((await loadConfig(toml(`name = "${"a".repeat(63)}"\n${body}`).dir)).name, "a".repeat(63));
    for (const bad of ["a".repeat(64), "MyWorker", "my.worker", "-worker"]) {
      assert.match(await configErrorOf(loadConfig(toml(`name = "${bad}"\n${body}`).dir)), /name: found .*, expected a Worker name of at most 63/, bad);
    }
  });

  test('name = "" falls back to the folder name, as in wrangler (with -<env> for an environment)', async () => {
    const p = toml(`name = ""\n${body}[env.staging]\nvars = { A = "1" }\n`);
    assert.equal((await loadConfig(p.dir)).name, path.basename(p.dir));
    assert.equal((await loadConfig(p.dir, { env: "staging" })).name, `${path.basename(p.dir)}-staging`);
  });

  test("the folder name is made safe: other characters become dashes, at most 63 characters", async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), "ledge-names-"));
    folders.push(parent);
    const odd = path.join(parent, "My Project (copy)!");
    const long = path.join(parent, `${"x".repeat(70)}`);
    for (const dir of [odd, long]) {
      fs.mkdirSync(path.join(dir, "src"), { recursive: true });
      fs.writeFileSync(path.join(dir, "src", "index.ts"), "export default {};\n");
      fs.writeFileSync(path.join(dir, "wrangler.toml"), `name = ""\n${body}`);
    }
    assert.equal((await loadConfig(odd)).name, "My-Project-copy");
    assert.equal((await loadConfig(long)).name, "x".repeat(63));
  });

  test("a name derived for --env must still be a usable name", async () => {
    const p = toml(`${TOML_HEADER}[env."a/../../b"]\nvars = { A = "1" }\n`);
    const message = await configErrorOf(loadConfig(p.dir, { env: "a/../../b" }));
    assert.match(message, /wrangler\.toml: name: found "app-a\/\.\.\/\.\.\/b" \(the Worker name for --env "a\/\.\.\/\.\.\/b"\), expected a Worker name/);
  });
});
