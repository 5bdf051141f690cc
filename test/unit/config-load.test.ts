import assert from "node:assert/strict";
import path from "node:path";
import { afterEach, describe, test } from "node:test";
import { findConfigFile, loadConfig, type AppConfig } from "../../src/config/index.js";
import { configErrorOf, makeProject, TOML_HEADER, type Project } from "../fixtures/config/project.js";

const projects: Project[] = [];
function project(files: Record<string, string> = {}): Project {
  const p = makeProject(files);
  projects.push(p);
  return p;
}
afterEach(() => {
  for (const p of projects.splice(0)) p.remove();
});

/** The same project written three ways. */
const TOML = `
name = "shop"
main = "src/index.ts"
compatibility_date = "2026-03-01"
compatibility_flags = ["nodejs_compat"]
routes = ["shop.example.com/*", { pattern = "api.example.com/*", zone_name = "example.com" }]

[vars]
GREETING = "hello"
FEATURES = { beta = true, max = 3 }

[[durable_objects.bindings]]
name = "CART"
class_name = "Cart"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Cart"]

[[kv_namespaces]]
binding = "SESSIONS"
id = "sessions-ns"

[[services]]
binding = "AUTH"
service = "auth"
entrypoint = "Auth"

[triggers]
crons = ["0 * * * *"]

[[rules]]
type = "Text"
globs = ["**/*.md"]
fallthrough = true

[limits]
cpu_ms = 5000
`;

const AS_OBJECT = {
  name: "shop",
  main: "src/index.ts",
  compatibility_date: "2026-03-01",
  compatibility_flags: ["nodejs_compat"],
  routes: ["shop.example.com/*", { pattern: "api.example.com/*", zone_name: "example.com" }],
  vars: { GREETING: "hello", FEATURES: { beta: true, max: 3 } },
  durable_objects: { bindings: [{ name: "CART", class_name: "Cart" }] },
  migrations: [{ tag: "v1", new_sqlite_classes: ["Cart"] }],
  kv_namespaces: [{ binding: "SESSIONS", id: "sessions-ns" }],
  services: [{ binding: "AUTH", service: "auth", entrypoint: "Auth" }],
  triggers: { crons: ["0 * * * *"] },
  rules: [{ type: "Text", globs: ["**/*.md"], fallthrough: true }],
  limits: { cpu_ms: 5000 },
};

/** JSONC with comments and trailing commas, as create-cloudflare writes it. */
const JSONC = `// Shop worker
{
  /* identity */
  "name": "shop",
  "main": "src/index.ts",
  "compatibility_date": "2026-03-01",
  "compatibility_flags": ["nodejs_compat",],
  "routes": ["shop.example.com/*", { "pattern": "api.example.com/*", "zone_name": "example.com" }],
  "vars": { "GREETING": "hello", "FEATURES": { "beta": true, "max": 3 } },
  "durable_objects": { "bindings": [{ "name": "CART", "class_name": "Cart" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Cart"] }],
  "kv_namespaces": [{ "binding": "SESSIONS", "id": "sessions-ns" }],
  "services": [{ "binding": "AUTH", "service": "auth", "entrypoint": "Auth" }],
  "triggers": { "crons": ["0 * * * *"] }, // hourly
  "rules": [{ "type": "Text", "globs": ["**/*.md"], "fallthrough": true }],
  "limits": { "cpu_ms": 5000 },
}
`;

/** Everything except the fields that name the folder, which necessarily differ between projects. */
function portable(config: AppConfig): Omit<AppConfig, "configPath" | "rootDir" | "main"> & { main: string } {
  const { configPath: _c, rootDir, main, ...rest } = config;
  return { ...rest, main: path.relative(rootDir, main) };
}

describe("loading a project", () => {
  test("wrangler.toml, wrangler.json and wrangler.jsonc describe the same AppConfig", async () => {
    const fromToml = await loadConfig(project({ "wrangler.toml": TOML }).dir);
    const fromJson = await loadConfig(project({ "wrangler.json": JSON.stringify(AS_OBJECT, null, 2) }).dir);
    const fromJsonc = await loadConfig(project({ "wrangler.jsonc": JSONC }).dir);
    assert.deepEqual(portable(fromJson), portable(fromToml));
    assert.deepEqual(portable(fromJsonc), portable(fromToml));

    assert.equal(fromToml.name, "shop");
    assert.equal(path.basename(fromToml.configPath), "wrangler.toml");
    assert.equal(fromToml.main, path.join(fromToml.rootDir, "src", "index.ts"));
    assert.deepEqual(fromToml.vars, { GREETING: "hello", FEATURES: { beta: true, max: 3 } });
    assert.deepEqual(fromToml.durableObjects, [{ name: "CART", className: "Cart" }]);
    assert.deepEqual(fromToml.durableObjectClasses, [{ className: "Cart", storage: "sqlite" }]);
    assert.deepEqual(fromToml.kvNamespaces, [{ binding: "SESSIONS", id: "sessions-ns" }]);
    assert.deepEqual(fromToml.services, [{ binding: "AUTH", service: "auth", entrypoint: "Auth" }]);
    assert.deepEqual(fromToml.crons, ["0 * * * *"]);
    assert.deepEqual(fromToml.routes, [{ pattern: "shop.example.com/*" }, { pattern: "api.example.com/*", zoneName: "example.com" }]);
    assert.deepEqual(fromToml.limits, { cpuMs: 5000, subrequests: 10000, memoryMb: 128 });
    assert.deepEqual(fromToml.warnings, []);
  });

  test("a .json file may contain comments and trailing commas, as wrangler allows", async () => {
    const p = project({ "wrangler.json": `{\n  // a comment\n  "main": "src/index.ts",\n  "compatibility_date": "2026-01-15",\n}\n` });
    const config = await loadConfig(p.dir);
    assert.equal(config.compatibilityDate, "2026-01-15");
  });

  test("several config files: wrangler's precedence (json, jsonc, toml) applies, with a warning", async () => {
    const p = project({
      "wrangler.toml": `${TOML_HEADER}`.replace('"app"', '"from-toml"'),
      "wrangler.jsonc": `{ "name": "from-jsonc", "main": "src/index.ts", "compatibility_date": "2026-01-15" }`,
    });
    const jsoncWins = await loadConfig(p.dir);
    assert.equal(jsoncWins.name, "from-jsonc");
    assert.match(jsoncWins.warnings.join("\n"), /Found wrangler\.jsonc and wrangler\.toml .*using wrangler\.jsonc/);

    p.write("wrangler.json", `{ "name": "from-json", "main": "src/index.ts", "compatibility_date": "2026-01-15" }`);
    assert.equal((await loadConfig(p.dir)).name, "from-json");
    assert.equal(findConfigFile(p.dir), path.join(p.dir, "wrangler.json"));
  });

  test("a config file path can be given instead of a folder, or with overrides.configPath", async () => {
    const p = project({
      "wrangler.toml": TOML_HEADER,
      "deploy/other.toml": TOML_HEADER.replace('"app"', '"other"').replace("src/", "worker/"),
      "deploy/worker/index.ts": "export default {};\n",
    });
    assert.equal((await loadConfig(path.join(p.dir, "wrangler.toml"))).name, "app");
    const other = await loadConfig(p.dir, { configPath: path.join(p.dir, "deploy", "other.toml") });
    assert.equal(other.name, "other");
    assert.equal(other.rootDir, path.join(p.dir, "deploy"));
    // main is relative to the config file, whose folder is the project folder.
    assert.equal(other.main, path.join(p.dir, "deploy", "worker", "index.ts"));
  });

  test("no config file: the error names the folder and every file name looked for", async () => {
    const p = project();
    assert.equal(findConfigFile(p.dir), undefined);
    const message = await configErrorOf(loadConfig(p.dir));
    assert.ok(message.includes(p.dir), message);
    assert.match(message, /wrangler\.json, wrangler\.jsonc, wrangler\.toml/);
  });

  test("a folder that does not exist is reported by path", async () => {
    const p = project();
    const message = await configErrorOf(loadConfig(path.join(p.dir, "nope")));
    assert.match(message, /nope does not exist/);
  });

  test("a TOML syntax error names the file, line and column, and what was wrong", async () => {
    const p = project({ "wrangler.toml": `name = "app"\nmain = "src/index.ts"\ncompatibility_date = \n` });
    const message = await configErrorOf(loadConfig(p.dir));
    assert.match(message, /wrangler\.toml:3:\d+: invalid TOML: invalid value \(line 3, column \d+\)/);
    assert.match(message, /compatibility_date = /);
  });

  test("a JSON syntax error names the file, line and column, and what was wrong", async () => {
    const p = project({ "wrangler.jsonc": `{\n  "name": "app"\n  "main": "src/index.ts"\n}\n` });
    const message = await configErrorOf(loadConfig(p.dir));
    assert.match(message, /wrangler\.jsonc:3:3: invalid JSON: expected a comma \(,\) between entries \(line 3, column 3\)/);
  });

  test("a JSON file whose top level is not an object is rejected", async () => {
    const p = project({ "wrangler.json": `["not", "a", "config"]` });
    const message = await configErrorOf(loadConfig(p.dir));
    assert.match(message, /wrangler\.json: the file must contain a JSON object at the top level/);
  });

  test("a config file with another extension is rejected by name", async () => {
    const p = project({ "wrangler.yaml": "name: app\n" });
    const message = await configErrorOf(loadConfig(path.join(p.dir, "wrangler.yaml")));
    assert.match(message, /wrangler\.yaml: unsupported config file type "\.yaml"/);
  });

  test("an unquoted TOML date is accepted as compatibility_date", async () => {
    const p = project({ "wrangler.toml": 'main = "src/index.ts"\ncompatibility_date = 2026-02-03\n' });
    assert.equal((await loadConfig(p.dir)).compatibilityDate, "2026-02-03");
  });
});
