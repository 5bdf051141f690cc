/**
 * App boundaries: an app reaches another app's Durable Objects (`script_name`), services or KV
 * namespaces only when the operator lets them share an account with `--trust`; the app's own config
 * cannot grant it. Without the grant, start-up is refused with one line naming the app, the field
 * and the flag. A KV namespace id belongs to the first app that binds it, across restarts. The node
 * also refuses a cross-account call that did not come from a binding (forged from inside an isolate).
 * Sharing with the grant is covered by service-bindings, do-script-name and kv-shared tests.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { removeDir, runLedge, withLedge, writeProject } from "../helpers/ledge.js";
import { KV_WORKER, kvOk, kvToml } from "./kv-helpers.js";

const HEADER = (name: string) => `name = "${name}"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\n`;

const AUTH = {
  "wrangler.toml": HEADER("auth") + `\n[[durable_objects.bindings]]\nname = "VAULT"\nclass_name = "Vault"\n\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Vault"]\n`,
  "index.js": `
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
export class Vault extends DurableObject { read() { return "vault contents"; } }
export default class extends WorkerEntrypoint {
  fetch() { return new Response("auth"); }
  whoami() { return "auth entrypoint"; }
}
`,
};

const SERVICE_CALLER = {
  "wrangler.toml": HEADER("front") + `\n[[services]]\nbinding = "AUTH"\nservice = "auth"\n`,
  "index.js": `export default { async fetch(req, env) { return new Response(await env.AUTH.whoami()); } };\n`,
};

const OBJECT_CALLER = {
  "wrangler.toml": HEADER("front") + `\n[[durable_objects.bindings]]\nname = "STOLEN"\nclass_name = "Vault"\nscript_name = "auth"\n`,
  "index.js": `export default { async fetch(req, env) { return new Response(await env.STOLEN.getByName("x").read()); } };\n`,
};

/**
 * An app with no binding to "auth" that tries to post a service call to the host itself, through
 * the worker thread's port, and reports whether anything answered. In an isolate `node:worker_threads`
 * is Workers' stub, so there is no port to the host to post on (the node also refuses cross-account
 * calls where they cross, src/runtime/node.ts, should one ever be posted).
 */
const FORGER = {
  "wrangler.toml": HEADER("forger") + `compatibility_flags = ["nodejs_compat"]\n`,
  "index.js": `
import { parentPort } from "node:worker_threads";
export default {
  fetch() {
    const rid = 987654321;
    return new Promise((resolve) => {
      const done = (answer) => resolve(Response.json({ port: typeof parentPort?.postMessage, answer }));
      try {
        parentPort?.on?.("message", (msg) => {
          for (const m of msg.t === "batch" ? msg.msgs : [msg]) if (m.t === "object-result" && m.rid === rid) done({ ok: m.ok, code: m.error?.code ?? null });
        });
        parentPort?.postMessage?.({ t: "object-call", rid, call: { kind: "service-rpc", app: "auth", method: "whoami", args: [] } });
      } catch (e) {
        return done("threw " + e.message);
      }
      setTimeout(() => done("none"), 500);
    });
  },
};
`,
};

const dirs: string[] = [];
after(() => {
  for (const d of dirs) removeDir(d);
});

function project(files: Record<string, string>): string {
  const dir = writeProject(files, "ledge-boundary-");
  dirs.push(dir);
  return dir;
}

describe("cross-app references need --trust", () => {
  test("a service binding to another app is refused without --trust, and works with it", async () => {
    const front = project(SERVICE_CALLER);
    const auth = project(AUTH);
    const refused = await runLedge(["serve", front, auth, "--port", "0"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /✘ app "front": services\[0\] \(binding AUTH\) calls app "auth"; apps reach each other only when the operator allows it: --trust front,auth\n/,
    );
    assert.doesNotMatch(refused.stdout, /Ready on/);
    await withLedge(front, { args: [auth, "--trust", "front,auth", "--no-access-log"] }, async (l) => {
      assert.equal(await (await fetch(l.url)).text(), "auth entrypoint");
    });
  });

  test("a script_name binding to another app's class is refused without --trust; another account's grant does not count; * trusts all", async () => {
    const front = project(OBJECT_CALLER);
    const auth = project(AUTH);
    const refused = await runLedge(["serve", front, auth, "--port", "0"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /app "front": durable_objects\.bindings\[0\] \(binding STOLEN\) has script_name "auth"; .*--trust front,auth/);
    // Each --trust is one account: front shares with "billing", not with auth.
    const otherAccount = await runLedge(["serve", front, auth, "--port", "0", "--trust", "front,billing", "--trust", "auth,reports"]);
    assert.equal(otherAccount.code, 1);
    assert.match(otherAccount.stderr, /has script_name "auth"/);
    await withLedge(front, { args: [auth, "--trust", "*", "--no-access-log"] }, async (l) => {
      assert.equal(await (await fetch(l.url)).text(), "vault contents");
    });
  });

  test("--trust needs two apps or *", async () => {
    const r = await runLedge(["serve", project(AUTH), "--port", "0", "--trust", "auth"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--trust expects two or more app names separated by commas/);
  });
});

describe("KV namespace ownership", () => {
  test("the first app to bind an id owns it, across restarts; another app is refused until trusted", async () => {
    const state = mkdtempSync(join(tmpdir(), "ledge-boundary-kv-"));
    dirs.push(state);
    const owner = project({ "wrangler.toml": kvToml("owner", [["DATA", "owned-ns"]]), "src/index.js": KV_WORKER });
    const other = project({ "wrangler.toml": kvToml("other", [["BORROWED", "owned-ns"], ["MINE", "other-ns"]]), "src/index.js": KV_WORKER });

    await withLedge(owner, { args: ["--persist-to", state, "--no-access-log"] }, async (l) => {
      await kvOk(l.url, { method: "put", key: "private", binding: "DATA", value: { text: "owner's data" } });
    });
    assert.equal(readFileSync(join(state, "kv", "owned-ns.owner"), "utf8"), "owner\n");

    const refused = await runLedge(["serve", other, "--port", "0", "--persist-to", state]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /app "other": kv_namespaces\[0\] \(binding BORROWED\) uses KV namespace "owned-ns", which belongs to app "owner"; apps reach each other only when the operator allows it: give the binding an id of its own, or share it with --trust other,owner/,
    );
    assert.doesNotMatch(refused.stderr, /MINE/, "the namespace nobody owned is not refused");
    assert.equal(existsSync(join(state, "kv", "other-ns.owner")), false, "an app that was refused claims nothing");

    await withLedge(other, { args: ["--persist-to", state, "--trust", "owner,other", "--no-access-log"] }, async (l) => {
      assert.equal(await kvOk(l.url, { method: "get", key: "private", binding: "BORROWED" }), "owner's data");
    });
    assert.equal(readFileSync(join(state, "kv", "owned-ns.owner"), "utf8"), "owner\n", "sharing does not move ownership");
    assert.equal(readFileSync(join(state, "kv", "other-ns.owner"), "utf8"), "other\n");
  });
});

describe("an isolate cannot forge calls across apps", () => {
  test("an isolate has no port to the host to post a forged call to another app on", async () => {
    const forger = project(FORGER);
    const auth = project(AUTH);
    await withLedge(forger, { args: [auth, "--no-access-log"] }, async (l) => {
      const got = (await (await fetch(l.url)).json()) as { port: string; answer: unknown };
      assert.notEqual(got.answer && typeof got.answer === "object" && (got.answer as { ok: boolean }).ok, true, JSON.stringify(got));
      assert.deepEqual(got.answer, "none", JSON.stringify(got));
    });
  });
});
