import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { loadConfig, parseDotenv } from "../../src/config/index.js";
import { configErrorOf, makeProject, TOML_HEADER, type Project } from "../fixtures/config/project.js";

const projects: Project[] = [];
function project(files: Record<string, string>): Project {
  const p = makeProject(files);
  projects.push(p);
  return p;
}
afterEach(() => {
  for (const p of projects.splice(0)) p.remove();
});

const WITH_ENVS = `${TOML_HEADER}compatibility_flags = ["nodejs_compat"]
routes = ["app.example.com/*"]

[vars]
MODE = "top"

[[kv_namespaces]]
binding = "CACHE"

[triggers]
crons = ["0 * * * *"]

[limits]
cpu_ms = 1000

[env.staging]
routes = ["staging.example.com/*"]
[env.staging.vars]
MODE = "staging"
[[env.staging.kv_namespaces]]
binding = "CACHE"
id = "staging-cache"

[env.bare]
compatibility_date = "2026-02-02"
`;

describe("environments", () => {
  test("without --env the top level is used", async () => {
    const config = await loadConfig(project({ "wrangler.toml": WITH_ENVS }).dir);
    assert.equal(config.name, "app");
    assert.deepEqual(config.vars, { MODE: "top" });
    assert.deepEqual(config.routes, [{ pattern: "app.example.com/*" }]);
  });

  test("an environment inherits settings, replaces what it sets, and is named <name>-<env>", async () => {
    const config = await loadConfig(project({ "wrangler.toml": WITH_ENVS }).dir, { env: "staging" });
    assert.equal(config.name, "app-staging");
    assert.deepEqual(config.vars, { MODE: "staging" });
    assert.deepEqual(config.kvNamespaces, [{ binding: "CACHE", id: "staging-cache" }]);
    assert.deepEqual(config.routes, [{ pattern: "staging.example.com/*" }]);
    // Inherited from the top level:
    assert.equal(config.compatibilityDate, "2026-01-15");
    assert.deepEqual(config.compatibilityFlags, ["nodejs_compat"]);
    assert.deepEqual(config.crons, ["0 * * * *"]);
    assert.equal(config.limits.cpuMs, 1000);
    assert.deepEqual(config.warnings, []);
  });

  test("bindings are not inherited, with a warning per missing field, as in wrangler", async () => {
    const config = await loadConfig(project({ "wrangler.toml": WITH_ENVS }).dir, { env: "bare" });
    assert.equal(config.compatibilityDate, "2026-02-02");
    assert.deepEqual(config.vars, {});
    assert.deepEqual(config.kvNamespaces, []);
    assert.deepEqual(config.routes, [{ pattern: "app.example.com/*" }]);
    assert.equal(config.warnings.length, 2, config.warnings.join("\n"));
    assert.match(config.warnings[0]!, /^env\.bare: "vars" is set at the top level but not in env\.bare; like wrangler, Ledge does not inherit it/);
    assert.match(config.warnings[1]!, /^env\.bare: "kv_namespaces" is set at the top level/);
  });

  test("an unknown environment is an error listing the defined ones", async () => {
    const message = await configErrorOf(loadConfig(project({ "wrangler.toml": WITH_ENVS }).dir, { env: "prod" }));
    assert.match(message, /wrangler\.toml: env\.prod: no environment named "prod" \(--env\); the config defines "staging", "bare"/);
  });

  test("an environment in a config without any is a warning, and the top level is used", async () => {
    const config = await loadConfig(project({ "wrangler.toml": TOML_HEADER }).dir, { env: "dev" });
    assert.equal(config.name, "app-dev");
    assert.match(config.warnings.join("\n"), /env\.dev: no environment named "dev" in the config/);
  });

  test("errors inside an environment carry the env.<name> prefix", async () => {
    const p = project({ "wrangler.toml": `${TOML_HEADER}[env.staging]\n[[env.staging.durable_objects.bindings]]\nname = "C"\nclass_name = "Counter"\n` });
    const message = await configErrorOf(loadConfig(p.dir, { env: "staging" }));
    assert.match(message, /wrangler\.toml: env\.staging\.durable_objects\.bindings\[0\]\.class_name: binding "C" uses class "Counter", which no migration declares/);
  });

  test("migrations are inherited by environments", async () => {
    const p = project({
      "wrangler.toml": `${TOML_HEADER}[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Counter"]\n[env.staging]\n[[env.staging.durable_objects.bindings]]\nname = "C"\nclass_name = "Counter"\n`,
    });
    const config = await loadConfig(p.dir, { env: "staging" });
    assert.deepEqual(config.durableObjects, [{ name: "C", className: "Counter" }]);
  });

  test("shape errors and unknown fields in the selected environment name their full path", async () => {
    const p = project({ "wrangler.toml": `${TOML_HEADER}[env.staging]\nmain = 3\nmystery = true\n` });
    const message = await configErrorOf(loadConfig(p.dir, { env: "staging" }));
    assert.match(message, /wrangler\.toml: env\.staging\.main: found 3, expected the path of the entry module/);
    const ok = project({ "wrangler.toml": `${TOML_HEADER}[env.staging]\nmystery = true\n` });
    assert.match((await loadConfig(ok.dir, { env: "staging" })).warnings.join("\n"), /env\.staging\.mystery: unknown field, ignored/);
  });
});

describe(".dev.vars and --var", () => {
  test(".dev.vars values override vars and are listed as secret names", async () => {
    const p = project({
      "wrangler.toml": `${TOML_HEADER}[vars]\nAPI_URL = "https://prod.example.com"\nLEVEL = "info"\n`,
      ".dev.vars": "# local secrets\nAPI_URL=http://localhost:9000\nexport TOKEN='s3cr3t'\n",
    });
    const config = await loadConfig(p.dir);
    assert.deepEqual(config.vars, { API_URL: "http://localhost:9000", LEVEL: "info", TOKEN: "s3cr3t" });
    assert.deepEqual(config.secretNames, ["API_URL", "TOKEN"]);
  });

  test("with --env, .dev.vars.<env> is preferred when it exists", async () => {
    const p = project({ "wrangler.toml": `${TOML_HEADER}[env.staging]\n`, ".dev.vars": "WHICH=default\n", ".dev.vars.staging": "WHICH=staging\n" });
    assert.equal((await loadConfig(p.dir, { env: "staging" })).vars.WHICH, "staging");
    assert.equal((await loadConfig(p.dir)).vars.WHICH, "default");
    const fallback = project({ "wrangler.toml": `${TOML_HEADER}[env.prod]\n`, ".dev.vars": "WHICH=default\n" });
    assert.equal((await loadConfig(fallback.dir, { env: "prod" })).vars.WHICH, "default");
  });

  test("--var wins over both vars and .dev.vars", async () => {
    const p = project({ "wrangler.toml": `${TOML_HEADER}[vars]\nA = "vars"\nB = "vars"\n`, ".dev.vars": "B=secret\nC=secret\n" });
    const config = await loadConfig(p.dir, { vars: { B: "flag", C: "flag", D: "flag" } });
    assert.deepEqual(config.vars, { A: "vars", B: "flag", C: "flag", D: "flag" });
  });

  test("a secret named like a KV binding is a duplicate binding name", async () => {
    const p = project({ "wrangler.toml": `${TOML_HEADER}[[kv_namespaces]]\nbinding = "DATA"\n`, ".dev.vars": "DATA=oops\n" });
    assert.match(await configErrorOf(loadConfig(p.dir)), /wrangler\.toml: kv_namespaces\[0\]\.binding: binding name "DATA" is also declared by \.dev\.vars DATA/);
  });

  test("secrets.required names missing from .dev.vars produce a warning", async () => {
    const p = project({ "wrangler.toml": `${TOML_HEADER}[secrets]\nrequired = ["API_KEY", "TOKEN"]\n`, ".dev.vars": "TOKEN=x\n" });
    const warnings = (await loadConfig(p.dir)).warnings.join("\n");
    assert.match(warnings, /secrets\.required: secret "API_KEY" is required but not set/);
    assert.doesNotMatch(warnings, /"TOKEN"/);
  });

  test("unreadable .dev.vars lines are reported as warnings with their line number", async () => {
    const p = project({ "wrangler.toml": TOML_HEADER, ".dev.vars": "GOOD=1\nthis is not a pair\n" });
    const config = await loadConfig(p.dir);
    assert.equal(config.vars.GOOD, "1");
    assert.match(config.warnings.join("\n"), /\.dev\.vars line 2 skipped: expected KEY=value/);
  });
});

describe("parseDotenv", () => {
  test("reads quotes, escapes, comments, export prefixes and multi-line values", () => {
    const { values, skipped } = parseDotenv(
      [
        "# comment",
        "PLAIN=hello world # trailing comment",
        "URL=https://example.com/#anchor",
        'DOUBLE="line1\\nline2 \\"quoted\\""',
        "SINGLE='no $escapes \\n here'",
        "export EXPORTED=yes",
        'MULTI="first',
        'second"',
        "EMPTY=",
        "SPACED = padded ",
        "1BAD=x",
      ].join("\n"),
    );
    assert.deepEqual(values, {
      PLAIN: "hello world",
      URL: "https://example.com/#anchor",
      DOUBLE: 'line1\nline2 "quoted"',
      SINGLE: "no $escapes \\n here",
      EXPORTED: "yes",
      MULTI: "first\nsecond",
      EMPTY: "",
      SPACED: "padded",
    });
    assert.deepEqual(skipped, [{ line: 11, reason: '"1BAD" is not a valid variable name' }]);
  });

  test("an unterminated quote skips the variable and says where it started", () => {
    const { values, skipped } = parseDotenv('OK=1\nBROKEN="never closed\nLATER=2\n');
    assert.deepEqual(values, { OK: "1" });
    assert.deepEqual(skipped, [{ line: 2, reason: 'unterminated " quote' }]);
  });
});
