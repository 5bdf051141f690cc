/**
 * `ledge secret put|list|delete` through the real CLI: values come from stdin or a prompt that does
 * not echo, are stored encrypted, reach only their own app's env, with the documented precedence
 * (vars < stored secrets < .dev.vars < --var; a secret may not share a var's name), and no value of
 * a secret, `.dev.vars` or `--var` is ever printed or written in plain text under the project or
 * the state folder.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { BIN, removeDir, runLedge, withLedge, writeProject } from "../helpers/ledge.js";

const WORKER = `export default { fetch(req, env) { return Response.json({ TOKEN: env.TOKEN ?? null, DB_URL: env.DB_URL ?? null, PLAIN: env.PLAIN ?? null, LOCAL: env.LOCAL ?? null, FLAG: env.FLAG ?? null }); } };\n`;

function project(name: string, extra: Record<string, string> = {}, vars = 'PLAIN = "plain"\n', top = ""): string {
  return writeProject({
    "wrangler.toml": `name = "${name}"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\n${top}[vars]\n${vars}`,
    "index.js": WORKER,
    ...extra,
  }, `ledge-secret-${name}-`);
}

/** Serves the project once and returns the env values its Worker reports, and what the CLI printed. */
function envOf(dir: string, opts: { args?: string[]; env?: Record<string, string> } = {}): Promise<{ env: Record<string, unknown>; output: string }> {
  return withLedge(dir, opts, async (l) => ({ env: (await (await fetch(l.url)).json()) as Record<string, unknown>, output: l.output() }));
}

/** GET / with a Host header (fetch() may not set one), parsed as JSON. */
function getWithHost(port: number, host: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/", headers: { host } }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve(JSON.parse(body)));
      })
      .on("error", reject);
  });
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) removeDir(d);
});

/** Every file below `dir`, read as bytes and decoded as latin1 so any byte sequence can be searched. */
function allFileText(dir: string): string {
  let out = "";
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out += readFileSync(join(entry.parentPath, entry.name)).toString("latin1");
  }
  return out;
}

describe("ledge secret", () => {
  test("put from stdin, list names only, and the value reaches env without being printed or stored in clear", async () => {
    const value = "tok-7f3e9a-very-secret";
    const devValue = "dev-vars-value-41c2";
    const flagValue = "flag-value-88d1";
    const dir = project("vault", { ".dev.vars": `LOCAL=${devValue}\n` });
    dirs.push(dir);
    const put = await runLedge(["secret", "put", "TOKEN", dir], { input: `${value}\n` });
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /Stored secret "TOKEN" for app "vault"/);
    const list = await runLedge(["secret", "list", dir]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), [{ name: "TOKEN", type: "secret_text" }]);

    const expected = { TOKEN: value, DB_URL: null, PLAIN: "plain", LOCAL: devValue, FLAG: flagValue };
    const first = await envOf(dir, { args: ["--var", `FLAG:${flagValue}`] });
    assert.deepEqual(first.env, expected);
    // A second start takes the cached config: the values must still arrive.
    const again = await envOf(dir, { args: ["--var", `FLAG:${flagValue}`] });
    assert.deepEqual(again.env, expected);
    const printed = put.stdout + put.stderr + list.stdout + list.stderr + first.output + again.output;
    const stored = allFileText(join(dir, ".ledge"));
    assert.ok(existsSync(join(dir, ".ledge", "build")) && existsSync(join(dir, ".ledge", "state", "secrets", "vault.json")));
    for (const v of [value, devValue, flagValue]) {
      assert.ok(!printed.includes(v), `${v} was printed`);
      assert.ok(!stored.includes(v), `${v} is stored in plain text under .ledge`);
      assert.ok(!stored.includes(Buffer.from(v).toString("base64")), `${v} is stored in base64 under .ledge`);
    }
    assert.equal(statSync(join(dir, ".ledge", "state", "secret.key")).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, ".ledge", "state", "secrets", "vault.json")).mode & 0o777, 0o600);
  });

  test("ledge dev: stored secrets and .dev.vars reach env, also after a reload, and are never printed or stored in clear", async () => {
    const dir = project("devapp", { ".dev.vars": "LOCAL=dev-local-93a7\n" });
    dirs.push(dir);
    assert.equal((await runLedge(["secret", "put", "TOKEN", dir], { input: "dev-token-5b2c" })).code, 0);
    const output = await withLedge(dir, { command: "dev", args: ["--no-access-log"] }, async (l) => {
      assert.deepEqual(await (await fetch(l.url)).json(), { TOKEN: "dev-token-5b2c", DB_URL: null, PLAIN: "plain", LOCAL: "dev-local-93a7", FLAG: null });
      writeFileSync(join(dir, "index.js"), WORKER.replace("Response.json({", "Response.json({ reloaded: true,"));
      await l.waitFor("⎔ Reloaded devapp");
      assert.deepEqual(await (await fetch(l.url)).json(), { reloaded: true, TOKEN: "dev-token-5b2c", DB_URL: null, PLAIN: "plain", LOCAL: "dev-local-93a7", FLAG: null });
      return l.output();
    });
    const stored = allFileText(join(dir, ".ledge"));
    for (const v of ["dev-token-5b2c", "dev-local-93a7"]) {
      assert.ok(!output.includes(v), `${v} was printed`);
      assert.ok(!stored.includes(v), `${v} is stored in plain text under .ledge`);
    }
  });

  test("delete removes the secret; deleting a missing one fails", async () => {
    const dir = project("deleter");
    dirs.push(dir);
    assert.equal((await runLedge(["secret", "put", "TOKEN", dir], { input: "one" })).code, 0);
    assert.equal((await runLedge(["secret", "put", "DB_URL", dir], { input: "two" })).code, 0);
    const del = await runLedge(["secret", "delete", "TOKEN", dir]);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(JSON.parse((await runLedge(["secret", "list", dir])).stdout), [{ name: "DB_URL", type: "secret_text" }]);
    const missing = await runLedge(["secret", "delete", "TOKEN", dir]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /app "deleter" has no secret named "TOKEN"/);
    const { env } = await envOf(dir);
    assert.equal(env.TOKEN, null);
    assert.equal(env.DB_URL, "two");
  });

  test("a value is never taken from the command line, and an empty value is refused", async () => {
    const dir = project("argv");
    dirs.push(dir);
    const r = await runLedge(["secret", "put", "TOKEN", "hunter2-argv"], { cwd: dir, input: "" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /never an argument/);
    assert.doesNotMatch(r.stdout + r.stderr, /hunter2-argv/);
    const empty = await runLedge(["secret", "put", "TOKEN", dir], { input: "" });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /value is empty/);
    assert.deepEqual(JSON.parse((await runLedge(["secret", "list", dir])).stdout), []);
  });

  test("a --var written KEY=value (dotenv syntax) is refused without echoing its value", async () => {
    const dir = project("dotenv-flag");
    dirs.push(dir);
    const r = await runLedge(["serve", dir, "--port", "0", "--var", "TOKEN=flag-secret-0a1b"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--var expects KEY:VALUE.*"TOKEN=…" \(no colon\)/);
    assert.doesNotMatch(r.stdout + r.stderr, /flag-secret-0a1b/);
  });

  test("--name and --persist-to address an app without reading a config", async () => {
    const state = mkdtempSync(join(tmpdir(), "ledge-secret-state-"));
    const dir = project("named");
    dirs.push(state, dir);
    const put = await runLedge(["secret", "put", "TOKEN", "--name", "named", "--persist-to", state], { cwd: tmpdir(), input: "by-name" });
    assert.equal(put.code, 0, put.stderr);
    assert.equal((await envOf(dir, { args: ["--persist-to", state] })).env.TOKEN, "by-name");
  });

  test("the prompt does not echo what is typed", async () => {
    const dir = project("prompted");
    dirs.push(dir);
    const typed = "typed-secret-5e6f";
    // `script` gives the CLI a terminal; the value is typed only once the prompt is shown (raw mode on).
    const proc = spawn("script", ["-qec", `${process.execPath} ${BIN} secret put TOKEN ${dir}`, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let sent = false;
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!sent && out.includes("Enter the value")) {
        sent = true;
        proc.stdin.write(`${typed}\r`);
      }
    });
    const code = await new Promise<number | null>((resolve) => proc.on("exit", resolve));
    assert.equal(code, 0, out);
    assert.match(out, /Stored secret "TOKEN" for app "prompted"/);
    assert.ok(!out.includes(typed), `the typed value was echoed:\n${out}`);
    assert.equal((await envOf(dir)).env.TOKEN, typed);
  });
});

describe("secrets at start-up", () => {
  test("LEDGE_SECRET_KEY replaces the key file; without the key, or with another one, start-up refuses without printing values", async () => {
    const dir = project("keyed");
    dirs.push(dir);
    const key = "ab".repeat(32);
    const put = await runLedge(["secret", "put", "TOKEN", dir], { input: "keyed-value-1", env: { LEDGE_SECRET_KEY: key } });
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /encrypted with the key from LEDGE_SECRET_KEY/);
    assert.equal(existsSync(join(dir, ".ledge", "state", "secret.key")), false, "no key file is written when the key comes from the environment");

    const noKey = await runLedge(["serve", dir, "--port", "0"]);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /app "keyed" has stored secrets but there is no key to open them: set LEDGE_SECRET_KEY/);
    const wrongKey = await runLedge(["serve", dir, "--port", "0"], { env: { LEDGE_SECRET_KEY: "cd".repeat(32) } });
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /were stored with another key/);
    const badKey = await runLedge(["serve", dir, "--port", "0"], { env: { LEDGE_SECRET_KEY: "short" } });
    assert.equal(badKey.code, 1);
    assert.match(badKey.stderr, /LEDGE_SECRET_KEY must hold a 32-byte key/);
    for (const r of [noKey, wrongKey, badKey]) assert.doesNotMatch(r.stdout + r.stderr, /keyed-value-1/);

    assert.equal((await envOf(dir, { env: { LEDGE_SECRET_KEY: key } })).env.TOKEN, "keyed-value-1");
  });

  test("a secret with a var's name is refused; .dev.vars and --var override a secret", async () => {
    const clash = project("clash");
    dirs.push(clash);
    assert.equal((await runLedge(["secret", "put", "PLAIN", clash], { input: "clash-value" })).code, 0);
    const refused = await runLedge(["serve", clash, "--port", "0"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /app "clash": secret "PLAIN" has the name of a binding in vars/);
    assert.doesNotMatch(refused.stderr, /clash-value/);

    const over = project("override", { ".dev.vars": "LOCAL=from-dev-vars\n" }, "");
    dirs.push(over);
    assert.equal((await runLedge(["secret", "put", "LOCAL", over], { input: "stored-local" })).code, 0);
    assert.equal((await runLedge(["secret", "put", "FLAG", over], { input: "stored-flag" })).code, 0);
    assert.equal((await runLedge(["secret", "put", "TOKEN", over], { input: "stored-token" })).code, 0);
    assert.deepEqual((await envOf(over, { args: ["--var", "FLAG:from-flag"] })).env, { TOKEN: "stored-token", DB_URL: null, PLAIN: null, LOCAL: "from-dev-vars", FLAG: "from-flag" });
  });

  test("with several apps, each app's secrets and --var values reach only that app", async () => {
    const state = mkdtempSync(join(tmpdir(), "ledge-secret-multi-"));
    const a = project("alpha", {}, 'PLAIN = "a"\n', 'route = "alpha.test/*"\n');
    const b = project("beta", {}, 'PLAIN = "b"\n');
    dirs.push(state, a, b);
    assert.equal((await runLedge(["secret", "put", "TOKEN", a, "--persist-to", state], { input: "alpha-only" })).code, 0);

    const unnamed = await runLedge(["serve", a, b, "--port", "0", "--persist-to", state, "--var", "FLAG:x"]);
    assert.equal(unnamed.code, 1);
    assert.match(unnamed.stderr, /--var FLAG names no app, and 2 apps are served; give it to one of them with --var APP\/FLAG:VALUE/);
    const unknown = await runLedge(["serve", a, b, "--port", "0", "--persist-to", state, "--var", "gamma/FLAG:x"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no app named "gamma" is served \(apps: alpha, beta\)/);

    // beta is the first app: requests without a matching route go to it.
    await withLedge(b, { args: [a, "--persist-to", state, "--var", "alpha/FLAG:for-alpha:with:colons"] }, async (l) => {
      assert.deepEqual(await (await fetch(l.url)).json(), { TOKEN: null, DB_URL: null, PLAIN: "b", LOCAL: null, FLAG: null });
      assert.deepEqual(await getWithHost(l.port, "alpha.test"), { TOKEN: "alpha-only", DB_URL: null, PLAIN: "a", LOCAL: null, FLAG: "for-alpha:with:colons" });
    });
  });
});
