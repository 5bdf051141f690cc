/**
 * Paths built from a config stay inside their roots: `main` and `assets.directory` inside the project
 * folder (config errors), and the state paths built from class names, namespace keys and object ids
 * inside the state folder even for a config that never went through validation (a start-up cache
 * file is one way such a config reaches the runtime).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { namespaceDir, namespaceKey, objectFile, removeDeletedClasses } from "../../src/objects/index.js";
import { insideRoot, isInside } from "../../src/shared/paths.js";
import { configErrorOf, projectsPerTest, TOML_HEADER } from "../fixtures/config/project.js";

const { toml } = projectsPerTest();

const AFTER_MAIN = TOML_HEADER.split("\n").filter((l) => !l.startsWith("main")).join("\n");

describe("insideRoot", () => {
  test("joins names below the root", () => {
    assert.equal(insideRoot("/state/do", "shop-Cart"), path.resolve("/state/do/shop-Cart"));
    assert.equal(insideRoot("/state", "kv", "a..b.sqlite"), path.resolve("/state/kv/a..b.sqlite"));
  });

  test("refuses what leaves the root, the root itself, and NUL, with a user error", () => {
    for (const parts of [["../x"], ["a/../../x"], ["/etc/passwd"], ["."], [""], ["a\0b"]]) {
      assert.throws(() => insideRoot("/state/do", ...parts), { code: "LEDGE_PATH_OUTSIDE_ROOT", kind: "user" }, JSON.stringify(parts));
    }
  });

  test("isInside is lexical and exact about the boundary", () => {
    assert.ok(isInside("/a/b", "/a/b"));
    assert.ok(isInside("/a/b", "/a/b/..c"));
    assert.ok(!isInside("/a/b", "/a/bc"));
    assert.ok(!isInside("/a/b", "/a/b/../c"));
  });
});

describe("state paths never leave the state folder, even without validation", () => {
  test("a deleted class with a path is refused at start-up and the file outside survives", async () => {
    const p = toml(`${TOML_HEADER}[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Old"]\n[[migrations]]\ntag = "v2"\ndeleted_classes = ["Old"]\n`);
    const config = await loadConfig(p.dir);
    const state = path.join(p.dir, ".ledge", "state");
    const stored = p.write(".ledge/state/do/app-Old/0000.sqlite", "objects");
    const victim = p.write("outside/victim/keep.txt", "precious");

    // The validated config removes its own deleted class's objects.
    assert.deepEqual(removeDeletedClasses(state, config), ["Old"]);
    assert.equal(fs.existsSync(stored), false);

    // The same config, as a crafted cache file could present it: the path escapes state/do.
    const crafted = { ...config, deletedClasses: ["x/../../../../outside/victim"] };
    assert.throws(() => removeDeletedClasses(state, crafted), { code: "LEDGE_PATH_OUTSIDE_ROOT", message: /must stay inside .*\.ledge\/state\/do/ });
    assert.equal(fs.readFileSync(victim, "utf8"), "precious");
    // An app name cannot lead the way out either.
    assert.throws(() => removeDeletedClasses(state, { ...config, name: "../..", deletedClasses: ["Old"] }), { code: "LEDGE_PATH_OUTSIDE_ROOT" });
  });

  test("namespace folders and object files stay in their folders", () => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "ledge-paths-"));
    try {
      const dir = namespaceDir(state, namespaceKey("shop", null, "Cart"));
      assert.equal(dir, path.join(state, "do", "shop-Cart"));
      assert.equal(objectFile(dir, "ab".repeat(32)), path.join(dir, `${"ab".repeat(32)}.sqlite`));
      assert.throws(() => objectFile(dir, "../../../escape"), { code: "LEDGE_PATH_OUTSIDE_ROOT" });
      assert.throws(() => namespaceDir(state, "../kv"), { code: "LEDGE_PATH_OUTSIDE_ROOT" });
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
  });
});

describe("main stays inside the project folder", () => {
  test("main in another project is refused, naming the file and the field", async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "ledge-other-"));
    fs.mkdirSync(path.join(other, "src"));
    fs.writeFileSync(path.join(other, "src", "index.js"), "export default {};\n");
    try {
      const p = toml(`main = "../${path.basename(other)}/src/index.js"\n${AFTER_MAIN}`);
      const message = await configErrorOf(loadConfig(p.dir));
      assert.equal(
        message,
        `${path.join(p.dir, "wrangler.toml")}: main: "../${path.basename(other)}/src/index.js" is outside the project folder ${p.dir}; the entry module must be inside it. Example: main = "src/index.ts"`,
      );
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test("an absolute main outside the project is refused without reading it", async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "ledge-outside-"));
    const secret = path.join(outside, "secret.js");
    fs.writeFileSync(secret, "password hunter2\n");
    try {
      const p = toml(`main = ${JSON.stringify(secret)}\n${AFTER_MAIN}`);
      const message = await configErrorOf(loadConfig(p.dir));
      assert.match(message, /main: ".*secret\.js" is outside the project folder/);
      assert.doesNotMatch(message, /hunter2/);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  test("a main inside the project that links to a file outside it is refused", async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "ledge-outside-"));
    fs.writeFileSync(path.join(outside, "index.js"), "export default {};\n");
    try {
      const p = toml(`main = "src/linked.js"\n${AFTER_MAIN}`);
      fs.symlinkSync(path.join(outside, "index.js"), path.join(p.dir, "src", "linked.js"));
      assert.match(await configErrorOf(loadConfig(p.dir)), /main: "src\/linked\.js" is a link to a file outside the project folder/);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe("assets.directory stays inside the project folder", () => {
  test('"../../" is refused; a folder inside the project, or the project itself, is accepted', async () => {
    const out = toml(`${TOML_HEADER}[assets]\ndirectory = "../../"\n`);
    assert.match(
      await configErrorOf(loadConfig(out.dir)),
      /wrangler\.toml: assets\.directory: "\.\.\/\.\.\/" is outside the project folder .*; static assets must be inside it\. Example: directory = "\.\/public"/,
    );
    for (const directory of ["./public", "."]) {
      const config = await loadConfig(toml(`${TOML_HEADER}[assets]\ndirectory = "${directory}"\n`).dir);
      assert.match(config.warnings.join("\n"), /assets: static assets are not served by Ledge yet/, directory);
    }
  });
});
