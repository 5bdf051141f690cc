/**
 * Node's APIs are out of reach of user code unless Node.js compatibility is on, as on Workers:
 * without it `process`, `require`, `Buffer` and `node:*` modules do not exist (a static import fails
 * the build with a message naming nodejs_compat); with the `nodejs_compat` flag, or a
 * compatibility_date of 2026-08-04 or later, they work. Each case runs the real CLI.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { removeDir, runLedge, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function serve(files: Record<string, string>): Promise<RunningLedge> {
  const dir = writeProject(files, "ledge-compat-");
  cleanups.push(() => removeDir(dir));
  const ledge = await startLedge(dir, { args: ["--isolates", "1", "--no-access-log"] });
  cleanups.push(() => ledge.stop());
  return ledge;
}

function toml(date: string, flags: string[] = []): string {
  return `name = "compat"\nmain = "src/index.ts"\ncompatibility_date = "${date}"\ncompatibility_flags = ${JSON.stringify(flags)}\n`;
}

/** What a Worker without static Node imports can see of Node. */
const PROBE = `
export default {
  async fetch(): Promise<Response> {
    let dynamicImport: string;
    try {
      const specifier = "node:" + ["f", "s"].join("");
      const fs = await import(specifier);
      dynamicImport = "loaded " + typeof fs.readFileSync;
    } catch (err) {
      dynamicImport = "rejected: " + (err as Error).message;
    }
    let requireCall: string;
    try {
      const req = typeof require === "function" ? require : undefined;
      requireCall = req ? "got " + typeof req("node:fs").readFileSync : "no require";
    } catch (err) {
      requireCall = "threw: " + (err as Error).message;
    }
    return Response.json({
      typeofProcess: typeof process,
      globalProcess: String((globalThis as Record<string, unknown>).process),
      processInGlobal: "process" in globalThis,
      typeofRequire: typeof require,
      typeofBuffer: typeof Buffer,
      typeofSetImmediate: typeof setImmediate,
      globalKeysWithNodeNames: Object.keys(globalThis).filter((k) => ["process", "Buffer", "global", "require"].includes(k)),
      dynamicImport,
      requireCall,
    });
  },
};
`;

/** A Worker that uses Node's APIs the way nodejs_compat Workers do. */
const NODE_USER = `
import fs from "node:fs";
import { Buffer as NodeBuffer } from "node:buffer";
import { createHash } from "node:crypto";
import path from "path";
export default {
  async fetch(): Promise<Response> {
    const specifier = "node:" + "os";
    const os = await import(specifier);
    return Response.json({
      typeofProcess: typeof process,
      platform: typeof process.platform,
      envIsObject: typeof process.env === "object",
      buffer: Buffer.from("hi").toString("hex"),
      sameBuffer: Buffer === NodeBuffer,
      fs: typeof fs.readFileSync,
      sha1: createHash("sha1").update("x").digest("hex"),
      join: path.join("a", "b"),
      dynamicOs: typeof os.cpus,
    });
  },
};
`;

describe("without nodejs_compat", () => {
  test("process, require, Buffer and node: modules are out of reach", async () => {
    const ledge = await serve({ "wrangler.toml": toml("2026-01-15"), "src/index.ts": PROBE });
    const res = await fetch(ledge.url);
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.typeofProcess, "undefined");
    assert.equal(body.globalProcess, "undefined");
    assert.equal(body.processInGlobal, false);
    assert.equal(body.typeofRequire, "undefined");
    assert.equal(body.typeofBuffer, "undefined");
    assert.equal(body.typeofSetImmediate, "undefined");
    assert.deepEqual(body.globalKeysWithNodeNames, []);
    assert.match(body.dynamicImport as string, /^rejected: /);
    assert.equal(body.requireCall, "no require");
  });

  test("a static import of node:fs fails the build with a message naming nodejs_compat and the file", async () => {
    const dir = writeProject({
      "wrangler.toml": toml("2026-01-15"),
      "src/index.ts": `import fs from "node:fs";\nexport default { fetch() { return new Response(typeof fs); } };\n`,
    });
    cleanups.push(() => removeDir(dir));
    const r = await runLedge(["serve", dir, "--port", "0"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /src\/index\.ts:1:\d+: /);
    assert.match(r.stderr, /node:fs/);
    assert.match(r.stderr, /nodejs_compat/);
    assert.match(r.stderr, /wrangler\.toml/);
  });

  test("a late compatibility_date with no_nodejs_compat keeps Node out", async () => {
    const dir = writeProject({
      "wrangler.toml": toml("2026-09-01", ["no_nodejs_compat"]),
      "src/index.ts": `import { Buffer } from "node:buffer";\nexport default { fetch() { return new Response(Buffer.from("x")); } };\n`,
    });
    cleanups.push(() => removeDir(dir));
    const r = await runLedge(["serve", dir, "--port", "0"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /node:buffer/);
    assert.match(r.stderr, /nodejs_compat/);
  });
});

describe("with Node.js compatibility", () => {
  const expected = {
    typeofProcess: "object",
    platform: "string",
    envIsObject: true,
    buffer: "6869",
    sameBuffer: true,
    fs: "function",
    sha1: "11f6ad8ec52a2984abaafd7c3b516503785c2072",
    join: "a/b",
    dynamicOs: "function",
  };

  test("the nodejs_compat flag gives process, Buffer and node: modules (static and dynamic imports)", async () => {
    const ledge = await serve({ "wrangler.toml": toml("2026-01-15", ["nodejs_compat"]), "src/index.ts": NODE_USER });
    const res = await fetch(ledge.url);
    assert.equal(res.status, 200, `${await res.clone().text()}\n${ledge.output()}`);
    assert.deepEqual(await res.json(), expected);
  });

  test("a compatibility_date of 2026-08-04 or later turns it on without the flag", async () => {
    const ledge = await serve({ "wrangler.toml": toml("2026-08-04"), "src/index.ts": NODE_USER });
    const res = await fetch(ledge.url);
    assert.equal(res.status, 200, `${await res.clone().text()}\n${ledge.output()}`);
    assert.deepEqual(await res.json(), expected);
  });
});
