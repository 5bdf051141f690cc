/**
 * `ledge dev` through the real CLI: an edited source file or config is picked up without a
 * restart; a syntax error is printed with file:line while the last good version keeps serving;
 * a request in flight during a reload finishes on the old version; and an exception shows its
 * stack on the error page (dev only).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { eventually, removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

const INDEX = `
import { message } from "./message";

interface Env {
  GREETING: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/throw") throw new RangeError("dev-only details");
    if (url.pathname === "/gate") {
      // Holds the request until the test's upstream answers, then reports this version.
      const upstream = url.searchParams.get("upstream")!;
      await (await fetch(upstream)).text();
      return new Response(message());
    }
    return new Response(\`\${env.GREETING} \${message()}\`);
  },
};
`;

const message = (version: string) => `export function message(): string {\n  return "${version}";\n}\n`;
const toml = (greeting: string) => `name = "devapp"\nmain = "src/index.ts"\ncompatibility_date = "2026-01-15"\n\n[vars]\nGREETING = "${greeting}"\n`;

let dir: string;
let ledge: RunningLedge;
let gate: http.Server;
let releaseGate: (() => void) | null = null;
let gateHit: (() => void) | null = null;

before(async () => {
  dir = writeProject({ "wrangler.toml": toml("hello"), "src/index.ts": INDEX, "src/message.ts": message("v1") });
  gate = http.createServer((_req, res) => {
    gateHit?.();
    releaseGate = () => res.end("go");
  });
  await new Promise<void>((r) => gate.listen(0, "127.0.0.1", r));
  ledge = await startLedge(dir, { command: "dev", args: ["--isolates", "1"] });
});

after(async () => {
  await ledge?.stop();
  gate.closeAllConnections();
  await new Promise((r) => gate.close(r));
  removeDir(dir);
});

async function body(path = "/"): Promise<string> {
  const res = await fetch(`${ledge.url}${path}`);
  return res.text();
}

/** Number of "Reloaded" lines printed so far. */
const reloads = () => ledge.output().split("⎔ Reloaded devapp").length - 1;

describe("ledge dev", () => {
  test("serves the project as first built", async () => {
    assert.equal(await body(), "hello v1");
  });

  test("an edited source file is served after the reload", async () => {
    const before = reloads();
    writeFileSync(join(dir, "src", "message.ts"), message("v2"));
    await eventually(async () => (await body()) === "hello v2", 'the edited message "v2" to be served');
    assert.ok(reloads() > before, "a reload was reported");
  });

  test("an edited config (vars) is served after the reload", async () => {
    writeFileSync(join(dir, "wrangler.toml"), toml("bonjour"));
    await eventually(async () => (await body()) === "bonjour v2", 'the new GREETING "bonjour" to be served');
  });

  test("a syntax error is printed with file:line and the last good version keeps serving", async () => {
    writeFileSync(join(dir, "src", "message.ts"), 'export function message(): string {\n  return "v3"\n  oops oops;\n}\n');
    await ledge.waitFor(/src\/message\.ts:3:\d+: .*\n[\s\S]*Still serving the last good version/);
    assert.equal(await body(), "bonjour v2");
    writeFileSync(join(dir, "src", "message.ts"), message("v4"));
    await eventually(async () => (await body()) === "bonjour v4", 'the fixed file ("v4") to be served');
  });

  test("a Worker that throws while starting is reported and the last good version keeps serving", async () => {
    writeFileSync(join(dir, "src", "message.ts"), 'throw new TypeError("cannot start");\nexport function message(): string {\n  return "never";\n}\n');
    await ledge.waitFor(/✘ The Worker failed to start: TypeError: cannot start\n\s+Still serving the last good version/);
    assert.equal(await body(), "bonjour v4");
  });

  test("a request in flight during a reload finishes on the version it started on", async () => {
    const upstream = `http://127.0.0.1:${(gate.address() as AddressInfo).port}/`;
    const hit = new Promise<void>((r) => (gateHit = r));
    const pending = body(`/gate?upstream=${encodeURIComponent(upstream)}`);
    await hit; // the request is now inside the v4 isolate, waiting on the gate
    const before = reloads();
    writeFileSync(join(dir, "src", "message.ts"), message("v5"));
    await eventually(() => reloads() > before, "the reload to v5 to finish");
    assert.equal(await body(), "bonjour v5");
    releaseGate!();
    assert.equal(await pending, "v4");
  });

  test("an exception shows its stack on the error page", async () => {
    const res = await fetch(`${ledge.url}/throw`);
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.match(text, /^500 Worker threw an exception\nRequest id: [0-9a-f]+\n/);
    assert.match(text, /RangeError: dev-only details\n\s+at /);
  });
});

describe("ledge dev with a broken first build", () => {
  test("prints the error, answers 503 until the file is fixed, then serves it", async () => {
    const broken = writeProject({
      "wrangler.toml": toml("hi"),
      "src/index.ts": 'export default { fetch() { return new Response("x" }; };\n',
    });
    const dev = await startLedge(broken, { command: "dev", args: ["--isolates", "1", "--no-access-log"] });
    try {
      assert.match(dev.output(), /src\/index\.ts:1:\d+: Expected "\)" but found "}"[\s\S]*Waiting for changes/);
      const res = await fetch(dev.url);
      assert.equal(res.status, 503);
      await res.body?.cancel();
      writeFileSync(join(broken, "src", "index.ts"), 'export default { fetch() { return new Response("fixed"); } };\n');
      await eventually(async () => (await (await fetch(dev.url)).text()) === "fixed", "the fixed Worker to be served");
    } finally {
      await dev.stop();
      removeDir(broken);
    }
  });
});
