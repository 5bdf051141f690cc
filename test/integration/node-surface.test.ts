/**
 * The `node:*` surface a Worker sees with nodejs_compat, module by module, against the list of
 * modules workerd provides: each is importable (statically, through `require` and through
 * `process.getBuiltinModule`); the ones workerd runs natively behave as Node's; the stubs throw a
 * clear "not implemented" error. Runs the real CLI.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

/** Every module name workerd's Node.js compatibility lists (natively or as a polyfill). */
const MODULES = [
  "assert", "assert/strict", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto",
  "dgram", "diagnostics_channel", "dns", "dns/promises", "domain", "events", "fs", "fs/promises", "http", "http2",
  "https", "inspector", "module", "net", "os", "path", "path/posix", "perf_hooks", "process", "punycode", "querystring",
  "readline", "repl", "stream", "stream/consumers", "stream/promises", "stream/web", "string_decoder", "timers",
  "timers/promises", "tls", "trace_events", "tty", "url", "util", "util/types", "v8", "vm", "wasi", "worker_threads", "zlib",
];

const WORKER = `
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import util from "node:util";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert";
import { AsyncLocalStorage } from "node:async_hooks";
import { StringDecoder } from "node:string_decoder";
import zlib from "node:zlib";
import dc from "node:diagnostics_channel";
import { setTimeout as sleep } from "node:timers/promises";
import qs from "node:querystring";
import punycode from "node:punycode";
import { createRequire } from "node:module";

const MODULES = ${JSON.stringify(MODULES)};
const req = createRequire("/bundle/index.js");
const t = async (f) => { try { return "ok " + (await f()); } catch (e) { return "threw " + e.message; } };

export default {
  async fetch() {
    const loads = {};
    for (const m of MODULES) {
      loads[m] = [typeof req("node:" + m), typeof process.getBuiltinModule("node:" + m), typeof req(m)].join(",");
    }
    const als = new AsyncLocalStorage();
    const seen = [];
    dc.channel("ledge-test").subscribe((msg) => seen.push(msg));
    dc.channel("ledge-test").publish("hello");
    const native = {
      buffer: Buffer.from("hi").toString("base64"),
      crypto: createHash("sha256").update("x").digest("hex").slice(0, 12),
      events: await new Promise((r) => { const e = new EventEmitter(); e.on("x", r); e.emit("x", "emitted"); }),
      stream: await text(Readable.from(["a", "b"])),
      util: util.format("%s=%d", "n", 4),
      path: path.join("/a", "b", "../c"),
      url: fileURLToPath("file:///bundle/x.js"),
      assert: await t(() => assert.equal(1, 2)),
      async_hooks: await als.run("store", async () => { await sleep(1); return als.getStore(); }),
      string_decoder: new StringDecoder("utf8").write(Buffer.from([0xe2, 0x82, 0xac])),
      zlib: zlib.gunzipSync(zlib.gzipSync("round trip")).toString(),
      diagnostics_channel: seen.join(),
      querystring: qs.stringify({ a: 1, b: "x y" }),
      punycode: punycode.toASCII("mañana.com"),
    };
    const stubs = {
      child_process: await t(() => req("node:child_process").exec("id")),
      cluster: await t(() => req("node:cluster").fork()),
      dns: await t(() => req("node:dns").lookup("example.com", () => {})),
      http: await t(() => req("node:http").request("http://example.com")),
      https: await t(() => req("node:https").request("https://example.com")),
      http2: await t(() => req("node:http2").connect("http://example.com")),
      net: await t(() => req("node:net").connect(80, "example.com")),
      repl: await t(() => req("node:repl").start()),
      vm: await t(() => req("node:vm").runInNewContext("1")),
      wasi: await t(() => new (req("node:wasi").WASI)({})),
    };
    return Response.json({ loads, native, stubs });
  },
};
`;

let ledge: RunningLedge;
let body: { loads: Record<string, string>; native: Record<string, string>; stubs: Record<string, string> };
const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

before(async () => {
  const dir = writeProject(
    {
      "wrangler.toml": `name = "surface"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\ncompatibility_flags = ["nodejs_compat"]\n`,
      "src/index.js": WORKER,
    },
    "ledge-node-surface-",
  );
  cleanups.push(() => removeDir(dir));
  ledge = await startLedge(dir, { args: ["--isolates", "1", "--no-access-log"] });
  cleanups.push(() => ledge.stop());
  const res = await fetch(ledge.url);
  assert.equal(res.status, 200, `${await res.clone().text()}\n${ledge.output()}`);
  body = (await res.json()) as typeof body;
});

describe("node: modules a Worker sees", () => {
  test("every module workerd lists is importable through require, getBuiltinModule and a bare name", () => {
    for (const m of MODULES) {
      assert.match(body.loads[m] ?? "missing", /^(object|function),(object|function),(object|function)$/, `node:${m}: ${body.loads[m]}`);
    }
  });

  test("the modules workerd runs natively behave as Node's", () => {
    assert.deepEqual(body.native, {
      buffer: "aGk=",
      crypto: "2d711642b726",
      events: "emitted",
      stream: "ab",
      util: "n=4",
      path: "/a/c",
      url: "/bundle/x.js",
      assert: "threw 1 == 2",
      async_hooks: "store",
      string_decoder: "€",
      zlib: "round trip",
      diagnostics_channel: "hello",
      querystring: "a=1&b=x%20y",
      punycode: "xn--maana-pta.com",
    });
  });

  test("the modules Workers lacks are stubs whose calls throw a clear 'not implemented' error", () => {
    for (const [name, got] of Object.entries(body.stubs)) {
      assert.match(got, /^threw \[unenv\] .+ is not implemented yet!$/, `node:${name}: ${got}`);
    }
  });
});
