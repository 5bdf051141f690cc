import assert from "node:assert/strict";
import path from "node:path";
import { afterEach, describe, test } from "node:test";
import { formatConfigWarnings, loadConfig, parseVarFlag, ConfigError } from "../../src/config/index.js";
import { configErrorOf, makeProject, TOML_HEADER, type Project } from "../fixtures/config/project.js";

const projects: Project[] = [];
function toml(body: string, files: Record<string, string> = {}): Project {
  const p = makeProject({ "wrangler.toml": body, ...files });
  projects.push(p);
  return p;
}
function json(value: unknown): Project {
  const p = makeProject({ "wrangler.json": JSON.stringify(value, null, 2) });
  projects.push(p);
  return p;
}
afterEach(() => {
  for (const p of projects.splice(0)) p.remove();
});

describe("shape errors", () => {
  test("a wrong type names the file, the dotted path, what was found and expected, with an example", async () => {
    const p = toml(`${TOML_HEADER}[[durable_objects.bindings]]\nname = "COUNTER"\nclass_name = 42\n`);
    const message = await configErrorOf(loadConfig(p.dir));
    assert.equal(
      message,
      `${path.join(p.dir, "wrangler.toml")}: durable_objects.bindings[0].class_name: found 42, expected the exported class name. Example: class_name = "Counter"`,
    );
  });

  test("examples are written in the file's own syntax", async () => {
    const p = json({ main: "src/index.ts", compatibility_date: "2026-01-15", kv_namespaces: [{ id: "x" }] });
    const message = await configErrorOf(loadConfig(p.dir));
    assert.match(message, /wrangler\.json: kv_namespaces\[0\]\.binding: missing; expected a string\. Example: "binding": "CACHE"/);
  });

  test("every problem is listed, one per line, in a single error", async () => {
    const p = toml(
      [
        'main = "src/index.ts"',
        'compatibility_date = "2026-01-15"',
        'compatibility_flags = "nodejs_compat"',
        "[limits]",
        "cpu_ms = 400000",
        "memory_mb = 8",
        "[[rules]]",
        'type = "Markdown"',
        'globs = ["**/*.md"]',
      ].join("\n"),
    );
    const message = await configErrorOf(loadConfig(p.dir));
    const lines = message.split("\n");
    assert.equal(lines[0], "Found 4 problems in the config:");
    assert.equal(lines.length, 5);
    assert.match(message, /wrangler\.toml: compatibility_flags: found "nodejs_compat", expected a list\. Example: compatibility_flags = \["nodejs_compat"\]/);
    assert.match(message, /wrangler\.toml: limits\.cpu_ms: found 400000, expected a whole number of milliseconds from 1 to 300000 \(default 30000\)/);
    assert.match(message, /wrangler\.toml: limits\.memory_mb: found 8, expected a whole number of megabytes from 16 to 4096/);
    assert.match(message, /wrangler\.toml: rules\[0\]\.type: found "Markdown", expected one of "ESModule", "CommonJS", "CompiledWasm", "Text", "Data"/);
  });

  test("a route table with a bad field is explained by the table's own field", async () => {
    const p = toml(`${TOML_HEADER}routes = [{ pattern = 5 }]\n`);
    const message = await configErrorOf(loadConfig(p.dir));
    assert.match(message, /wrangler\.toml: routes\[0\]\.pattern: found 5, expected a string\. Example: pattern = "example\.com\/\*"/);
  });

  test("route and routes together are rejected", async () => {
    const p = toml(`${TOML_HEADER}route = "a.example.com/*"\nroutes = ["b.example.com/*"]\n`);
    assert.match(await configErrorOf(loadConfig(p.dir)), /wrangler\.toml: route: "route" and "routes" cannot both be set/);
  });
});

describe("unknown and unsupported fields", () => {
  test("unknown top-level and nested fields are warnings, with a suggestion for typos", async () => {
    const p = toml(`${TOML_HEADER}compatiblity_flags = ["x"]\n[[kv_namespaces]]\nbinding = "KV"\nnamespace = "x"\n`);
    const config = await loadConfig(p.dir);
    assert.deepEqual(config.warnings, [
      'compatiblity_flags: unknown field, ignored. Did you mean "compatibility_flags"?',
      "kv_namespaces[0].namespace: unknown field, ignored. Check its spelling against wrangler's configuration docs.",
    ]);
    const block = formatConfigWarnings(config);
    assert.match(block, /^Warnings in .*wrangler\.toml:\n {2}- compatiblity_flags: unknown field/);
    assert.equal(formatConfigWarnings({ ...config, warnings: [] }), "");
  });

  test("deployment-only fields load silently; fields whose absence of effect matters get a note", async () => {
    const p = toml(
      `${TOML_HEADER}workers_dev = false\naccount_id = "abc"\nlogpush = true\nplacement = { mode = "smart" }\n[observability]\nenabled = true\n[build]\ncommand = "npm run build"\n[assets]\ndirectory = "./public"\nbinding = "ASSETS"\n`,
    );
    const config = await loadConfig(p.dir);
    assert.equal(config.warnings.length, 2, config.warnings.join("\n"));
    assert.match(config.warnings[0]!, /^assets: static assets are not served by Ledge yet/);
    assert.match(config.warnings[1]!, /^build: Ledge does not run the custom build command/);
    assert.deepEqual(config.unsupportedBindings, [{ binding: "ASSETS", kind: "assets" }]);
  });

  test("bindings Ledge does not implement are recorded by name and kind, without error", async () => {
    const p = toml(
      `${TOML_HEADER}
ai = { binding = "AI" }
browser = { binding = "BROWSER" }
[[r2_buckets]]
binding = "BUCKET"
bucket_name = "uploads"
[[d1_databases]]
binding = "DB"
database_name = "main"
database_id = "123"
[[queues.producers]]
binding = "JOBS"
queue = "jobs"
[[send_email]]
name = "MAIL"
[[ratelimits]]
name = "LIMITER"
namespace_id = "1001"
simple = { limit = 100, period = 60 }
[[unsafe.bindings]]
name = "RAW"
type = "something"
`,
    );
    const config = await loadConfig(p.dir);
    assert.deepEqual(
      config.unsupportedBindings.map((b) => `${b.kind}:${b.binding}`).sort(),
      ["ai:AI", "browser:BROWSER", "d1_databases:DB", "queues:JOBS", "r2_buckets:BUCKET", "ratelimits:LIMITER", "send_email:MAIL", "unsafe:RAW"],
    );
    assert.deepEqual(config.warnings, []);
  });
});

describe("field meaning", () => {
  test("main is required, and the error names the field", async () => {
    const p = toml('compatibility_date = "2026-01-15"\n');
    const message = await configErrorOf(loadConfig(p.dir));
    assert.match(message, /wrangler\.toml: main: missing; expected the path of your Worker's entry module.*Example: main = "src\/index\.ts"/);
  });

  test("main must exist: the error names the field and the resolved path", async () => {
    const p = toml('main = "src/worker.ts"\ncompatibility_date = "2026-01-15"\n');
    const message = await configErrorOf(loadConfig(p.dir));
    assert.ok(message.includes(`main: the entry module ${path.join(p.dir, "src", "worker.ts")} does not exist`), message);
  });

  test("name defaults to the folder name; an unusable name is an error", async () => {
    const p = toml('main = "src/index.ts"\ncompatibility_date = "2026-01-15"\n');
    assert.equal((await loadConfig(p.dir)).name, path.basename(p.dir));
    p.write("wrangler.toml", `name = "../escape"\n${TOML_HEADER.split("\n").slice(1).join("\n")}`);
    assert.match(await configErrorOf(loadConfig(p.dir)), /wrangler\.toml: name: found "\.\.\/escape", expected a Worker name of at most 63 characters: lowercase letters, digits/);
  });

  test("compatibility_date must be a real YYYY-MM-DD date", async () => {
    const wrongFormat = toml('main = "src/index.ts"\ncompatibility_date = "01/02/2026"\n');
    assert.match(await configErrorOf(loadConfig(wrongFormat.dir)), /wrangler\.toml: compatibility_date: found "01\/02\/2026", expected a date written YYYY-MM-DD/);
    const noSuchDay = toml('main = "src/index.ts"\ncompatibility_date = "2026-02-30"\n');
    assert.match(await configErrorOf(loadConfig(noSuchDay.dir)), /compatibility_date: found "2026-02-30", that day does not exist/);
  });

  test("a missing compatibility_date becomes today's date in UTC, with a warning", async () => {
    const p = toml('main = "src/index.ts"\n');
    const config = await loadConfig(p.dir, {}, { now: () => new Date("2026-05-31T23:30:00-05:00") });
    assert.equal(config.compatibilityDate, "2026-06-01");
    assert.match(config.warnings.join("\n"), /compatibility_date: not set; using today's date \(2026-06-01\)/);
  });

  test("limits default to Cloudflare's values", async () => {
    const config = await loadConfig(toml(TOML_HEADER).dir);
    assert.deepEqual(config.limits, { cpuMs: 30000, subrequests: 10000, memoryMb: 128 });
  });

  test("crons: five fields, or six with seconds; a bad expression is named in the error", async () => {
    const good = toml(`${TOML_HEADER}[triggers]\ncrons = ["*/5 * * * *", "30 0 12 * * MON-FRI", "0 0 L * *"]\n`);
    assert.deepEqual((await loadConfig(good.dir)).crons, ["*/5 * * * *", "30 0 12 * * MON-FRI", "0 0 L * *"]);

    const bad = toml(`${TOML_HEADER}[triggers]\ncrons = ["0 25 * * *", "@daily", "* * * * * * *"]\n`);
    const message = await configErrorOf(loadConfig(bad.dir));
    assert.match(message, /wrangler\.toml: triggers\.crons\[0\]: cron "0 25 \* \* \*" is not a valid cron expression: .*hour/);
    assert.match(message, /wrangler\.toml: triggers\.crons\[1\]: cron "@daily" has 1 field; expected 5/);
    assert.match(message, /wrangler\.toml: triggers\.crons\[2\]: cron "\* \* \* \* \* \* \*" has 7 fields/);
  });

  test("the same binding name in two kinds is an error naming both declarations", async () => {
    const p = toml(`${TOML_HEADER}[vars]\nDATA = "x"\n[[kv_namespaces]]\nbinding = "DATA"\n[[r2_buckets]]\nbinding = "DATA"\nbucket_name = "b"\n`);
    const message = await configErrorOf(loadConfig(p.dir));
    assert.match(message, /wrangler\.toml: kv_namespaces\[0\]\.binding: binding name "DATA" is also declared by vars\.DATA/);
    assert.match(message, /wrangler\.toml: r2_buckets\[0\]\.binding: binding name "DATA" is also declared by vars\.DATA/);
  });

  test("a KV namespace without id uses its binding name as id", async () => {
    const config = await loadConfig(toml(`${TOML_HEADER}[[kv_namespaces]]\nbinding = "CACHE"\npreview_id = "p"\n`).dir);
    assert.deepEqual(config.kvNamespaces, [{ binding: "CACHE", id: "CACHE" }]);
  });
});

describe("parseVarFlag", () => {
  test("splits at the first colon, so values may contain colons", () => {
    assert.deepEqual(parseVarFlag("API_URL:https://example.com:8443/x"), ["API_URL", "https://example.com:8443/x"]);
    assert.deepEqual(parseVarFlag("EMPTY:"), ["EMPTY", ""]);
  });

  test("without a colon or a key, the error shows the expected form", () => {
    assert.throws(() => parseVarFlag("API_URL"), (err: unknown) => err instanceof ConfigError && /--var expects KEY:VALUE.*"API_URL" \(no colon\)/.test(err.message));
    assert.throws(() => parseVarFlag(":value"), /the key is empty/);
  });
});
