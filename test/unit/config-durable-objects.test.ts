import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { configErrorOf, makeProject, TOML_HEADER, type Project } from "../fixtures/config/project.js";

const projects: Project[] = [];
function toml(body: string): Project {
  const p = makeProject({ "wrangler.toml": `${TOML_HEADER}${body}` });
  projects.push(p);
  return p;
}
function jsonc(value: Record<string, unknown>): Project {
  const base = { name: "app", main: "src/index.ts", compatibility_date: "2026-01-15" };
  const p = makeProject({ "wrangler.jsonc": JSON.stringify({ ...base, ...value }, null, 2) });
  projects.push(p);
  return p;
}
afterEach(() => {
  for (const p of projects.splice(0)) p.remove();
});

describe("migrations", () => {
  test("are applied in order: creates, renames and deletes", async () => {
    const p = toml(`
[[durable_objects.bindings]]
name = "ROOMS"
class_name = "ChatRoom"
[[durable_objects.bindings]]
name = "USERS"
class_name = "User"

[[migrations]]
tag = "v1"
new_classes = ["Room", "Legacy"]
[[migrations]]
tag = "v2"
new_sqlite_classes = ["User"]
renamed_classes = [{ from = "Room", to = "ChatRoom" }]
[[migrations]]
tag = "v3"
deleted_classes = ["Legacy"]
`);
    const config = await loadConfig(p.dir);
    assert.deepEqual(config.durableObjectClasses, [
      { className: "User", storage: "sqlite" },
      { className: "ChatRoom", storage: "kv" },
    ]);
    assert.deepEqual(config.renamedClasses, [{ from: "Room", to: "ChatRoom" }]);
    assert.deepEqual(config.deletedClasses, ["Legacy"]);
    assert.deepEqual(config.durableObjects, [
      { name: "ROOMS", className: "ChatRoom" },
      { name: "USERS", className: "User" },
    ]);
  });

  test("a binding to an undeclared class tells the user to add a migration (TOML)", async () => {
    const p = toml(`[[durable_objects.bindings]]\nname = "COUNTER"\nclass_name = "Counter"\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Other"]\n`);
    const message = await configErrorOf(loadConfig(p.dir));
    assert.match(
      message,
      /wrangler\.toml: durable_objects\.bindings\[0\]\.class_name: binding "COUNTER" uses class "Counter", which no migration declares\. Add a \[\[migrations\]\] entry with tag = "v2" and new_sqlite_classes = \["Counter"\]/,
    );
  });

  test("a binding to an undeclared class tells the user to add a migration (JSON)", async () => {
    const p = jsonc({ durable_objects: { bindings: [{ name: "COUNTER", class_name: "Counter" }] } });
    const message = await configErrorOf(loadConfig(p.dir));
    assert.match(message, /wrangler\.jsonc: durable_objects\.bindings\[0\]\.class_name: .*Add \{ "tag": "v1", "new_sqlite_classes": \[ "Counter" \] \} to "migrations"/);
  });

  test("a binding with script_name points at another Worker and needs no migration here", async () => {
    const p = toml(`[[durable_objects.bindings]]\nname = "REMOTE"\nclass_name = "Counter"\nscript_name = "counter-app"\nenvironment = "production"\n`);
    const config = await loadConfig(p.dir);
    assert.deepEqual(config.durableObjects, [{ name: "REMOTE", className: "Counter", scriptName: "counter-app" }]);
    assert.match(config.warnings.join("\n"), /durable_objects\.bindings\[0\]\.environment: ignored/);
  });

  test("a binding to a deleted class names the migration that deleted it", async () => {
    const p = toml(`[[durable_objects.bindings]]\nname = "OLD"\nclass_name = "Old"\n[[migrations]]\ntag = "v1"\nnew_classes = ["Old"]\n[[migrations]]\ntag = "v2"\ndeleted_classes = ["Old"]\n`);
    assert.match(await configErrorOf(loadConfig(p.dir)), /durable_objects\.bindings\[0\]\.class_name: binding "OLD" uses class "Old", which migrations\[1\] deletes/);
  });

  test("duplicate tags, and renames or deletes of unknown classes, are errors naming the entry", async () => {
    const p = toml(`
[[migrations]]
tag = "v1"
new_sqlite_classes = ["A"]
[[migrations]]
tag = "v1"
renamed_classes = [{ from = "Ghost", to = "B" }]
deleted_classes = ["Nobody"]
`);
    const message = await configErrorOf(loadConfig(p.dir));
    assert.match(message, /wrangler\.toml: migrations\[1\]\.tag: tag "v1" is already used by migrations\[0\]/);
    assert.match(message, /wrangler\.toml: migrations\[1\]\.renamed_classes\[0\]\.from: class "Ghost" cannot be renamed/);
    assert.match(message, /wrangler\.toml: migrations\[1\]\.deleted_classes\[0\]: class "Nobody" cannot be deleted/);
  });

  test("transferred_classes is accepted with a warning; the class exists but starts empty", async () => {
    const p = toml(`[[migrations]]\ntag = "v1"\ntransferred_classes = [{ from = "A", from_script = "old-app", to = "A" }]\n`);
    const config = await loadConfig(p.dir);
    assert.deepEqual(config.durableObjectClasses, [{ className: "A", storage: "sqlite" }]);
    assert.match(config.warnings.join("\n"), /migrations\[0\]\.transferred_classes\[0\]: transfers between Workers are not supported/);
  });
});

describe("exports (declarative form)", () => {
  test("declares live, renamed and deleted classes", async () => {
    const p = jsonc({
      durable_objects: { bindings: [{ name: "ROOMS", class_name: "ChatRoom" }] },
      exports: {
        ChatRoom: { type: "durable-object", storage: "sqlite" },
        Legacy: { type: "durable-object", storage: "legacy-kv" },
        Room: { type: "durable-object", state: "renamed", renamed_to: "ChatRoom" },
        Gone: { type: "durable-object", state: "deleted" },
        default: { type: "worker" },
      },
    });
    const config = await loadConfig(p.dir);
    assert.deepEqual(config.durableObjectClasses, [
      { className: "ChatRoom", storage: "sqlite" },
      { className: "Legacy", storage: "kv" },
    ]);
    assert.deepEqual(config.renamedClasses, [{ from: "Room", to: "ChatRoom" }]);
    assert.deepEqual(config.deletedClasses, ["Gone"]);
  });

  test("a rename must point at a live class", async () => {
    const p = jsonc({ exports: { Room: { type: "durable-object", state: "renamed", renamed_to: "Missing" }, Other: { type: "durable-object", state: "renamed" } } });
    const message = await configErrorOf(loadConfig(p.dir));
    assert.match(message, /wrangler\.jsonc: exports\.Room\.renamed_to: "Missing" must also be listed in exports as a live class/);
    assert.match(message, /wrangler\.jsonc: exports\.Other\.renamed_to: missing/);
  });

  test("an invalid export entry names its path", async () => {
    const p = jsonc({ exports: { Counter: { type: "durable-object", storage: "postgres" } } });
    assert.match(await configErrorOf(loadConfig(p.dir)), /wrangler\.jsonc: exports\.Counter\.storage: found "postgres", expected one of "sqlite", "legacy-kv"/);
  });

  test("a binding to a class missing from exports suggests an exports entry", async () => {
    const p = jsonc({ durable_objects: { bindings: [{ name: "C", class_name: "Counter" }] }, exports: { Other: { type: "durable-object" } } });
    assert.match(await configErrorOf(loadConfig(p.dir)), /class_name: binding "C" uses class "Counter".*Declare it in "exports": "Counter": \{ "type": "durable-object", "storage": "sqlite" \}/);
  });

  test("migrations and exports together are an error", async () => {
    const p = jsonc({ migrations: [{ tag: "v1", new_sqlite_classes: ["A"] }], exports: { A: { type: "durable-object", storage: "sqlite" } } });
    assert.match(await configErrorOf(loadConfig(p.dir)), /wrangler\.jsonc: exports: "migrations" and "exports" cannot both declare Durable Object classes/);
  });
});
