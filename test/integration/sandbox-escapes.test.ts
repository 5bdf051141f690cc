/**
 * Red team: a Worker (with nodejs_compat, and without) tries the known ways out of its isolate to
 * the host: host files, the host's environment, processes, code generated from strings, the host's
 * `process` through constructor chains, stack-trace hooks, prototypes and the global object, and
 * Node's own fetch machinery. Each attempt reports what it got; each must have been refused, and
 * the node keeps serving afterwards. Runs the real CLI with a marker in its environment that no app
 * may ever see.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

const HOST_MARKER = "host-secret-7f3a";

/** Every escape attempt: name → code returning what it got (a thrown error is reported as `threw Name: message`). */
const ATTEMPTS = `
const attempts = {
  readPasswd: () => require("node:fs").readFileSync("/etc/passwd", "utf8"),
  readdirRoot: () => require("node:fs").readdirSync("/"),
  readProcSelfEnviron: () => require("node:fs").readFileSync("/proc/self/environ", "utf8"),
  fsPromisesRead: () => require("node:fs/promises").readFile("/etc/hostname", "utf8"),
  execSync: () => require("node:child_process").execSync("id").toString(),
  spawn: () => require("node:child_process").spawn("id"),
  processKill: () => process.kill(process.pid, "SIGKILL"),
  processExit: () => process.exit(1),
  processBinding: () => process.binding("fs"),
  processLinkedBinding: () => process._linkedBinding("fs"),
  processDlopen: () => process.dlopen({ exports: {} }, "/usr/lib/x86_64-linux-gnu/libc.so.6"),
  processChdir: () => process.chdir("/"),
  processSetuid: () => process.setuid(0),
  processGetBuiltinFs: () => process.getBuiltinModule("node:fs").readFileSync("/etc/passwd", "utf8"),
  processMainModule: () => process.mainModule?.require?.("child_process"),
  evalCall: () => eval("1 + 1"),
  indirectEval: () => (0, eval)("typeof process"),
  newFunction: () => new Function("return typeof process")(),
  constructorChain: () => globalThis.constructor.constructor("return process")(),
  objectConstructorChain: () => ({}).constructor.constructor("return process")(),
  asyncFunctionCtor: () => (async function () {}).constructor("return process")(),
  generatorFunctionCtor: () => (function* () {}).constructor("yield process")().next().value,
  responseCtorChain: () => Response.constructor("return process")(),
  setTimeoutString: () => setTimeout("globalThis.leaked = 1", 0),
  vmRun: () => require("node:vm").runInNewContext("this.constructor.constructor('return process')()"),
  workerThread: () => {
    const w = new (require("node:worker_threads").Worker)("process.exit()", { eval: true });
    return typeof w.threadId === "number" && w.threadId > 0 ? "a real thread" : "an inert stub";
  },
  v8HeapStatistics: () => (require("node:v8").getHeapStatistics().total_heap_size > 0 ? "the host's heap" : "nothing"),
  inspectorEvaluate: () =>
    new Promise((resolve, reject) => {
      const s = new (require("node:inspector").Session)();
      s.connect();
      s.post("Runtime.evaluate", { expression: "typeof process.binding" }, (err, r) => (err ? reject(err) : resolve(JSON.stringify(r))));
      setTimeout(() => resolve("no answer"), 200);
    }),
  httpCreateServer: () => require("node:http").createServer().listen(0),
  netCreateServer: () => require("node:net").createServer().listen(0),
  netConnectUnix: () => require("node:net").connect("/var/run/postgresql/.s.PGSQL.5432"),
  createRequireChildProcess: () => require("node:module").createRequire("/")("child_process").execSync("id"),
  createRequireRelative: () => require("node:module").createRequire("/")("../../../etc/passwd"),
  dynamicImportChildProcess: () => import("node:" + "child_process").then((m) => m.execSync("id")),
  dynamicImportFile: () => import(["file:", "", "/etc/passwd"].join("/")),
  cryptoSetEngine: () => require("node:crypto").setEngine("/tmp/evil.so"),
  asyncHooksCreateHook: () => require("node:async_hooks").createHook({ init() {} }).enable(),
  broadcastChannel: () => new BroadcastChannel("ledge"),
  dispatcherClass: () => {
    const d = globalThis[Symbol.for("undici.globalDispatcher.1")];
    return d && new d.constructor({ connect: { socketPath: "/var/run/docker.sock" } }).constructor.name;
  },
  sloppyThisProcess: function () { return (function () { return this.process.binding("fs"); })(); },
  prepareStackTrace: () => {
    const got = [];
    const saved = Error.prepareStackTrace;
    Error.prepareStackTrace = (_e, frames) => {
      for (const f of frames) {
        const fn = f.getFunction?.();
        const self = f.getThis?.();
        if (fn && !String(f.getFileName()).startsWith("redteam.js")) got.push("function " + fn.name + " of " + f.getFileName());
        if (self && typeof self === "object" && !String(f.getFileName()).startsWith("redteam.js")) got.push("this of " + f.getFileName());
      }
      return "";
    };
    try {
      // Errors raised inside runtime and Node frames, called from here.
      try { new Response(null, { status: 1 }); } catch (e) { e.stack; }
      try { structuredClone(() => {}); } catch (e) { e.stack; }
      try { new URL("::"); } catch (e) { e.stack; }
      try { JSON.parse("{"); } catch (e) { e.stack; }
    } finally {
      Error.prepareStackTrace = saved;
    }
    if (got.length) return got;
    throw new Error("no host frame handed out a function or receiver");
  },
  reachHostProcess: () => {
    // Walks everything reachable from the global object (own properties, prototypes, bounded)
    // looking for Node's process object, its require, or a MessagePort to the host.
    const seen = new Set();
    const queue = [globalThis, process, require("node:events"), require("node:stream"), require("node:util")];
    const found = [];
    while (queue.length && seen.size < 20000) {
      const v = queue.shift();
      if (v === null || (typeof v !== "object" && typeof v !== "function") || seen.has(v)) continue;
      seen.add(v);
      const tag = Object.prototype.toString.call(v);
      if (tag === "[object process]") found.push("process");
      if (typeof v === "function" && typeof v.resolve === "function" && v.cache && v.main !== undefined) found.push("require");
      if (tag === "[object MessagePort]" && v !== globalThis) found.push("MessagePort");
      let keys = [];
      try { keys = Reflect.ownKeys(v); } catch {}
      for (const k of keys) {
        let d;
        try { d = Object.getOwnPropertyDescriptor(v, k); } catch {}
        if (d && "value" in d) queue.push(d.value);
      }
      try { queue.push(Object.getPrototypeOf(v)); } catch {}
    }
    if (found.length) return found;
    throw new Error("nothing of the host's among " + seen.size + " reachable objects");
  },
};
`;

const WORKER = `
${ATTEMPTS}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/ping") return new Response("pong");
    const results = {};
    for (const [name, attempt] of Object.entries(attempts)) {
      try {
        const v = await attempt();
        results[name] = "got " + (typeof v === "string" ? v.slice(0, 200) : JSON.stringify(v)?.slice(0, 200));
      } catch (e) {
        results[name] = "threw " + (e && e.name) + ": " + (e && e.message);
      }
    }
    results.envKeys = Object.keys(process.env).sort();
    results.envJson = JSON.stringify(process.env);
    results.leaked = String(globalThis.leaked);
    results.wasmCompiles = String(new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])) instanceof WebAssembly.Module);
    return Response.json(results);
  },
};
`;

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

let ledge: RunningLedge;
let results: Record<string, string | string[]>;

before(async () => {
  const dir = writeProject(
    {
      "wrangler.toml": `name = "redteam"\nmain = "src/index.js"\ncompatibility_date = "2026-11-01"\ncompatibility_flags = ["nodejs_compat"]\n[vars]\nAPP_VAR = "mine"\n`,
      "src/index.js": WORKER,
    },
    "ledge-redteam-",
  );
  cleanups.push(() => removeDir(dir));
  ledge = await startLedge(dir, { args: ["--isolates", "1", "--no-access-log"], env: { LEDGE_CLUSTER_SECRET: HOST_MARKER, HOST_ONLY_VAR: HOST_MARKER } });
  cleanups.push(() => ledge.stop());
  const res = await fetch(ledge.url);
  assert.equal(res.status, 200, `${await res.clone().text()}\n${ledge.output()}`);
  results = (await res.json()) as Record<string, string | string[]>;
});

describe("a Worker trying to reach the host", () => {
  const refused: [string, RegExp][] = [
    ["readPasswd", /^threw /],
    ["readdirRoot", /^(threw |got \[)/],
    ["readProcSelfEnviron", /^threw /],
    ["fsPromisesRead", /^threw /],
    ["execSync", /^threw Error: .*not implemented/],
    ["spawn", /^threw Error: .*not implemented/],
    ["processKill", /^threw Error: process\.kill\(\) is not available/],
    ["processExit", /^threw Error: process\.exit\(\) is not available/],
    ["processBinding", /^threw Error: process\.binding\(\) is not available/],
    ["processLinkedBinding", /^threw Error: process\._linkedBinding\(\) is not available/],
    ["processDlopen", /^threw Error: process\.dlopen\(\) is not available/],
    ["processChdir", /^threw Error: process\.chdir\(\) is not available/],
    ["processSetuid", /^threw Error: process\.setuid\(\) is not available/],
    ["processGetBuiltinFs", /^threw /],
    ["processMainModule", /^(got undefined|threw )/],
    ["evalCall", /^threw EvalError: Code generation from strings disallowed/],
    ["indirectEval", /^threw EvalError/],
    ["newFunction", /^threw EvalError/],
    ["constructorChain", /^threw EvalError/],
    ["objectConstructorChain", /^threw EvalError/],
    ["asyncFunctionCtor", /^threw EvalError/],
    ["generatorFunctionCtor", /^threw EvalError/],
    ["responseCtorChain", /^threw EvalError/],
    ["vmRun", /^threw Error: .*not implemented/],
    ["workerThread", /^(threw Error: .*not implemented|got an inert stub)/],
    ["v8HeapStatistics", /^(threw Error: .*not implemented|got nothing)/],
    ["inspectorEvaluate", /^(threw Error: .*not implemented|got no answer)/],
    ["httpCreateServer", /^threw Error: .*not implemented/],
    ["netCreateServer", /^threw Error: .*not implemented/],
    ["netConnectUnix", /^threw Error: .*not implemented/],
    ["createRequireChildProcess", /^threw Error: .*not implemented/],
    ["createRequireRelative", /^threw Error: No such module/],
    ["dynamicImportChildProcess", /^threw Error: .*not implemented/],
    ["dynamicImportFile", /^threw Error: No such module/],
    ["cryptoSetEngine", /^threw Error: crypto\.setEngine is not supported/],
    ["asyncHooksCreateHook", /^(threw |got )/],
    ["broadcastChannel", /^threw ReferenceError: BroadcastChannel is not defined/],
    // The global dispatcher is a plain frozen object: its constructor makes plain objects.
    ["dispatcherClass", /^got "?Object"?$/],
    ["sloppyThisProcess", /^threw Error: process\.binding\(\) is not available/],
    ["prepareStackTrace", /^threw Error: no host frame handed out/],
    ["reachHostProcess", /^threw Error: nothing of the host's among \d+ reachable objects/],
  ];
  for (const [name, expected] of refused) {
    test(`${name} is refused`, () => {
      assert.match(String(results[name]), expected, `${name}: ${results[name]}`);
      assert.doesNotMatch(String(results[name]), /root:x:0:0|uid=0/, `${name} reached the host: ${results[name]}`);
    });
  }

  test("process.env holds the app's vars and nothing of the host's environment", () => {
    assert.deepEqual(results.envKeys, ["APP_VAR"]);
    assert.ok(!String(results.envJson).includes(HOST_MARKER));
  });

  test("a string passed to setTimeout is not run as code", () => {
    assert.match(String(results.setTimeoutString), /^threw /);
    assert.equal(results.leaked, "undefined");
  });

  test("WebAssembly compiles from bytes, as on Workers", () => {
    assert.equal(results.wasmCompiles, "true");
  });

  test("createHook hands out no resources: its hooks are never called", () => {
    // unenv's createHook is inert; whatever it returns, the Node hook machinery is not reachable.
    assert.doesNotMatch(String(results.asyncHooksCreateHook), /TCPWRAP|MessagePort|FSREQ/);
  });

  test("the node still serves after every attempt", async () => {
    const res = await fetch(`${ledge.url}/ping`);
    assert.equal(await res.text(), "pong");
    assert.equal(ledge.proc.exitCode, null);
  });
});

describe("without nodejs_compat", () => {
  test("code generation from strings is refused as well", async () => {
    const dir = writeProject(
      {
        "wrangler.toml": `name = "nocompat"\nmain = "src/index.js"\ncompatibility_date = "2024-01-01"\n`,
        "src/index.js": `export default { fetch() { const r = {}; for (const [k, f] of Object.entries({ e: () => eval("1"), f: () => new Function("return 1")(), c: () => (() => {}).constructor("return globalThis.process")() })) { try { r[k] = "got " + f(); } catch (err) { r[k] = "threw " + err.name; } } return Response.json(r); } };\n`,
      },
      "ledge-redteam-nocompat-",
    );
    cleanups.push(() => removeDir(dir));
    const l = await startLedge(dir, { args: ["--isolates", "1", "--no-access-log"] });
    cleanups.push(() => l.stop());
    const res = await fetch(l.url);
    assert.deepEqual(await res.json(), { e: "threw EvalError", f: "threw EvalError", c: "threw EvalError" });
  });
});
