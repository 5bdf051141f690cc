/**
 * `ledge dev` and `ledge serve`: load the config, bundle, start the node and its front door.
 * `dev` also watches the project and reloads on every change: a new generation of isolates takes
 * new requests while in-flight ones finish on the old one; a broken build or config is reported
 * and the last good version keeps serving.
 */
import { watch, type FSWatcher } from "node:fs";
import { isAbsolute, join, resolve, sep } from "node:path";
import process from "node:process";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { availableParallelism } from "node:os";
import { bundleCached } from "../bundle/cached.js";
import { loadConfigCached, loadValidator } from "../config/cached.js";
import { formatConfigWarnings } from "../config/cli-helpers.js";
import type { AppConfig, ConfigOverrides } from "../config/types.js";
import { IsolateHandle } from "../runtime/isolate-handle.js";
import { LedgeNode } from "../runtime/node.js";
import { FrontDoor } from "../server/front-door.js";
import { AccessLog } from "../server/access-log.js";
import { errorMessage, LedgeError } from "../shared/errors.js";
import { makePrivateDir } from "../shared/private-dir.js";
import { parseTrust } from "../runtime/accounts.js";
import { withStoredSecrets } from "../secrets/index.js";
import { checkVarFlagApps, parseVarFlags, varsFor, type VarFlag } from "./var-flags.js";

const HELP = `Usage: ledge dev|serve [DIR] [options]
       ledge serve DIR [MORE_DIRS...] [options]   (several apps on one node, e.g. for script_name
                                                   bindings; requests go to the first app unless
                                                   another one's routes match the Host header)

Options:
  --port N               Port to listen on (default 8787; 0 picks a free one)
  --host ADDR            Address to listen on (default 127.0.0.1)
  --persist-to DIR       Where state lives (default DIR/.ledge/state; made private: 0700)
  --var KEY:VALUE        Set or override a var (repeatable); with several apps, name the app:
                         --var APP/KEY:VALUE
  --trust A,B            Apps A and B form one account: they may share KV namespaces, objects
                         (script_name) and service bindings (repeatable, one account each;
                         * = every app). Without it, a reference to another app is refused
  --env NAME             Use the [env.NAME] section of the config
  -c, --config FILE      Config file (default: wrangler.json, wrangler.jsonc or wrangler.toml in DIR)
  --isolates N           Isolates per app (default: one per core)
  --durability LEVEL     Object storage commits: full (fsync, survives power loss; default) or
                         normal (survives a crash of the process, not of the machine)
  --colo NAME            Region name reported as request.cf.colo (default LDG)
  --object-idle-ms MS    Evict an idle Durable Object after MS (default 70000)
  --hibernate-ms MS      Evict an idle object that only holds hibernatable sockets after MS (default 10000)
  --no-access-log        Do not print one line per request
  --test-scheduled       Serve /__scheduled?cron=... (always on in dev)
`;

export async function serveCommand(argv: string[], opts: { watch: boolean; prestarted?: IsolateHandle[] }): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: "string", default: "8787" },
      host: { type: "string", default: "127.0.0.1" },
      "persist-to": { type: "string" },
      var: { type: "string", multiple: true },
      trust: { type: "string", multiple: true },
      env: { type: "string" },
      config: { type: "string", short: "c" },
      isolates: { type: "string" },
      durability: { type: "string", default: "full" },
      colo: { type: "string", default: "LDG" },
      "object-idle-ms": { type: "string", default: "70000" },
      "hibernate-ms": { type: "string", default: "10000" },
      "no-access-log": { type: "boolean", default: false },
      "test-scheduled": { type: "boolean", default: false },
      // Hidden (not in --help): the first alarm retry's delay, so tests need not wait 2 s + 4 s + ….
      "alarm-retry-base-ms": { type: "string" },
      // Hidden: how long a request's headers may take to arrive (node:http's 60 s), for the 408 test.
      "headers-timeout-ms": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const dir = resolve(positionals[0] ?? ".");
  const moreDirs = positionals.slice(1).map((d) => resolve(d));
  if (moreDirs.length > 0 && opts.watch) {
    throw new LedgeError("LEDGE_CLI", "ledge dev watches one project; run several apps on one node with ledge serve DIR1 DIR2 ...");
  }
  const overrides: ConfigOverrides = { env: values.env, configPath: values.config ? resolve(values.config) : undefined };
  const varFlags = parseVarFlags(values.var ?? [], 1 + moreDirs.length);
  const trust = parseTrust(values.trust ?? []);
  const port = intOption("--port", values.port, 0, 65535);
  const durability = values.durability;
  if (durability !== "full" && durability !== "normal") throw new LedgeError("LEDGE_CLI", `--durability must be "full" or "normal", not "${durability}"`);

  const objectIdleMs = intOption("--object-idle-ms", values["object-idle-ms"], 1, 2 ** 31 - 1);
  const hibernateIdleMs = intOption("--hibernate-ms", values["hibernate-ms"], 1, 2 ** 31 - 1);
  const alarmRetryBaseMs =
    values["alarm-retry-base-ms"] === undefined ? undefined : intOption("--alarm-retry-base-ms", values["alarm-retry-base-ms"], 1, 60_000);
  const headersTimeoutMs =
    values["headers-timeout-ms"] === undefined ? undefined : intOption("--headers-timeout-ms", values["headers-timeout-ms"], 1, 300_000);

  // Start the app's isolates first: a worker thread takes tens of milliseconds to boot, which
  // overlaps with reading the config and bundling instead of following them.
  const poolSize = values.isolates ? intOption("--isolates", values.isolates, 1, 64) : availableParallelism();
  // One is enough to answer the first request; the rest of the pool starts with the deploy.
  const prestarted = opts.prestarted ?? [new IsolateHandle(128)];
  let config: AppConfig;
  try {
    ({ config, vars: overrides.vars } = await loadApp(overrides.configPath ?? dir, overrides, varFlags));
  } catch (err) {
    for (const h of prestarted) void h.worker.terminate();
    throw err;
  }
  const warnings = formatConfigWarnings(config);
  if (warnings) process.stderr.write(warnings + "\n");
  const persistDir = values["persist-to"]
    ? isAbsolute(values["persist-to"]) ? values["persist-to"] : resolve(values["persist-to"])
    : join(config.rootDir, ".ledge", "state");
  const log = (line: string) => process.stderr.write(line + "\n");
  const dirWarning = makePrivateDir(persistDir);
  if (dirWarning) log(dirWarning);

  const node = new LedgeNode({
    persistDir,
    colo: values.colo,
    dev: opts.watch,
    durability,
    objectIdleMs,
    hibernateIdleMs,
    alarmRetryBaseMs,
    cacheMaxBytes: 512 * 1024 * 1024,
    poolSize,
    prestarted,
    trust,
    drainMs: opts.watch ? 5_000 : 30_000,
    log,
  });
  const front = new FrontDoor({
    node,
    host: values.host,
    port,
    dev: opts.watch,
    colo: values.colo,
    accessLog: new AccessLog(process.stdout, !values["no-access-log"]),
    testScheduled: opts.watch || values["test-scheduled"],
    headersTimeoutMs,
  });

  let inputs: string[] = [];
  try {
    const built = await bundleCached(config);
    inputs = built.inputs;
    await node.deploy(withStoredSecrets(config, persistDir, keysOf(overrides.vars)), built.code);
    // Further apps (serve only): the same options, each with its own config from its folder.
    const served = [config.name];
    for (const more of moreDirs) {
      const { config: other, vars } = await loadApp(more, { env: overrides.env }, varFlags);
      if (node.apps.has(other.name)) throw new LedgeError("LEDGE_CLI", `two projects are named "${other.name}"; app names must differ`);
      served.push(other.name);
      const otherWarnings = formatConfigWarnings(other);
      if (otherWarnings) process.stderr.write(otherWarnings + "\n");
      await node.deploy(withStoredSecrets(other, persistDir, keysOf(vars)), (await bundleCached(other)).code);
    }
    checkVarFlagApps(varFlags, served);
  } catch (err) {
    if (!opts.watch) {
      await node.stop();
      throw err;
    }
    log(`✘ ${errorMessage(err)}\n  Waiting for changes…`);
  }
  // Watch before announcing "Ready": an edit made right after that line must trigger a reload.
  let watcher: FSWatcher | null = null;
  if (opts.watch) watcher = watchProject(config, overrides, node, log, persistDir, () => inputs, (i) => (inputs = i));
  let addr: AddressInfo;
  try {
    addr = await front.listen();
  } catch (err) {
    // Without this, the isolates and the watcher would keep the process alive after the error.
    watcher?.close();
    await node.stop();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new LedgeError("LEDGE_CLI", `${values.host}:${port} is already in use; stop what listens there or pick another --port`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new LedgeError("LEDGE_CLI", `--host ${values.host} is not an address of this machine`);
    throw err;
  }
  // Handle SIGINT/SIGTERM before announcing "Ready": a stop sent right after that line must still
  // shut down cleanly rather than kill the process.
  const stopRequested = new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  process.stdout.write(`Ready on http://${addr.address}:${addr.port}\n`);
  node.start();
  // Off the start-up path: nothing expires in the first moments.
  const { startKvPurger } = await import("../kv/index.js");
  const purger = startKvPurger(persistDir, {});

  await stopRequested;
  watcher?.close();
  purger.stop();
  // The front door stops accepting at once, but its close completes only when every connection has
  // ended, upgraded WebSockets included; node.stop() is what closes those (1001), so it runs meanwhile.
  const frontClosed = front.close();
  await node.stop();
  await frontClosed;
  return 0;
}

/**
 * Loads one app's config with the `--var` flags meant for it. A flag naming its app by name needs
 * the name first, so that case loads twice (both loads are usually cache hits).
 */
async function loadApp(dirOrFile: string, base: ConfigOverrides, flags: VarFlag[]): Promise<{ config: AppConfig; vars?: Record<string, string> }> {
  const unnamed = varsFor(flags.filter((f) => f.app === undefined), undefined);
  const first = await loadConfigCached(dirOrFile, { ...base, vars: unnamed });
  if (!flags.some((f) => f.app === first.name)) return { config: first, vars: unnamed };
  const vars = varsFor(flags, first.name);
  return { config: await loadConfigCached(dirOrFile, { ...base, vars }), vars };
}

function keysOf(vars: Record<string, string> | undefined): Set<string> {
  return new Set(Object.keys(vars ?? {}));
}

function intOption(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new LedgeError("LEDGE_CLI", `${name} must be a whole number between ${min} and ${max}, not "${raw}"`);
  }
  return n;
}

const IGNORED = [`${sep}node_modules${sep}`, `${sep}.ledge${sep}`, `${sep}.wrangler${sep}`, `${sep}.git${sep}`];

function watchProject(
  first: AppConfig,
  overrides: ConfigOverrides,
  node: LedgeNode,
  log: (l: string) => void,
  persistDir: string,
  getInputs: () => string[],
  setInputs: (i: string[]) => void,
): FSWatcher {
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let again = false;
  const reload = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    const t0 = performance.now();
    try {
      const { loadConfig } = await loadValidator();
      const { bundle } = await import("../bundle/index.js");
      const config = await loadConfig(overrides.configPath ?? first.rootDir, overrides);
      const built = await bundle(config);
      setInputs(built.inputs);
      await node.deploy(withStoredSecrets(config, persistDir, keysOf(overrides.vars)), built.code);
      log(`⎔ Reloaded ${config.name} in ${(performance.now() - t0).toFixed(0)} ms`);
    } catch (err) {
      log(`✘ ${errorMessage(err)}\n  Still serving the last good version; waiting for changes…`);
    } finally {
      running = false;
      if (again) {
        again = false;
        void reload();
      }
    }
  };
  const watcher = watch(first.rootDir, { recursive: true }, (_event, file) => {
    if (!file) return;
    const full = join(first.rootDir, file.toString());
    // A --persist-to folder inside the project changes on every KV or storage write; reloading
    // for those would restart the app (and its cron schedule) over and over.
    if (full === persistDir || full.startsWith(persistDir + sep)) return;
    if (IGNORED.some((p) => full.includes(p)) && !getInputs().includes(full)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void reload(), 60);
  });
  return watcher;
}
