/**
 * `ledge kv ...`: read and write a project's local KV namespaces, mirroring `wrangler kv key|bulk`.
 * Ledge has no remote, so every command acts on the node's SQLite files (`--local` is accepted and
 * changes nothing). Commands are declared as data below; `kvCommand` parses, dispatches and renders
 * errors: user mistakes as one line without a stack, exit code 1.
 *
 * Differences from wrangler: `key get` of a missing key prints "Value not found" on stderr and
 * exits 1 (wrangler exits 0), so scripts can test for it; `bulk delete` never asks for confirmation
 * (`--force` is accepted); an invalid `--metadata` is an error instead of being dropped.
 */
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { KVNamespace, KvStore, kvDbPath } from "../kv/index.js";
import { validateKey, validatePutOptions, valueTooLarge, KV_LIMITS } from "../kv/limits.js";
import { errorMessage } from "../shared/errors.js";
import { makePrivateDir } from "../shared/private-dir.js";

export interface KvCommandIo {
  stdout: { write(chunk: string | Uint8Array): unknown };
  stderr: { write(chunk: string | Uint8Array): unknown };
}

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values = Record<string, string | boolean | undefined>;

/** Flags every command takes: where the namespace is and where its data lives. */
const COMMON_OPTIONS: Options = {
  binding: { type: "string" },
  "namespace-id": { type: "string" },
  config: { type: "string", short: "c" },
  cwd: { type: "string" },
  env: { type: "string", short: "e" },
  "persist-to": { type: "string" },
  local: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

interface Context {
  args: string[];
  values: Values;
  io: KvCommandIo;
  /** Opens the namespace the flags name; the caller must `close()` it. */
  open(): Promise<OpenNamespace>;
}

interface OpenNamespace {
  id: string;
  store: KvStore;
  kv: KVNamespace;
  close(): void;
}

interface CommandSpec {
  /** `noun verb`, as typed after `ledge kv`. */
  name: string;
  description: string;
  /** Positional arguments; a trailing `?` marks an optional one. */
  positionals: string[];
  options: Options;
  run(ctx: Context): Promise<number>;
}

class UsageError extends Error {}

const COMMANDS: CommandSpec[] = [
  {
    name: "key put",
    description: "Write one key. The value is the argument, or the bytes of --path.",
    positionals: ["key", "value?"],
    options: {
      path: { type: "string" },
      metadata: { type: "string" },
      expiration: { type: "string" },
      "expiration-ttl": { type: "string" },
      ttl: { type: "string" },
    },
    async run({ args: [key, value], values, io, open }) {
      const path = values.path as string | undefined;
      if ((value === undefined) === (path === undefined)) {
        throw new UsageError("Give exactly one of a value argument or --path <file>.");
      }
      const bytes = path !== undefined ? readFileSync(resolve(String(values.cwd ?? "."), path)) : Buffer.from(value as string, "utf8");
      const metadata = values.metadata === undefined ? undefined : parseJsonFlag("--metadata", values.metadata as string);
      const expiration = numberFlag("--expiration", values.expiration);
      const expirationTtl = numberFlag("--expiration-ttl", values["expiration-ttl"] ?? values.ttl);
      const ns = await open();
      try {
        await ns.kv.put(key as string, bytes, { expiration, expirationTtl, metadata });
        io.stdout.write(`Wrote key ${JSON.stringify(key)} (${bytes.byteLength} bytes) to KV namespace ${ns.id}.\n`);
      } finally {
        ns.close();
      }
      return 0;
    },
  },
  {
    name: "key get",
    description: "Print one value: raw bytes by default, or UTF-8 text and a newline with --text.",
    positionals: ["key"],
    options: { text: { type: "boolean" } },
    async run({ args: [key], values, io, open }) {
      const ns = await open();
      try {
        const value = (await ns.kv.get(key as string, "arrayBuffer")) as ArrayBuffer | null;
        if (value === null) {
          io.stderr.write("Value not found\n");
          return 1;
        }
        if (values.text) io.stdout.write(`${Buffer.from(value).toString("utf8")}\n`);
        else io.stdout.write(new Uint8Array(value));
      } finally {
        ns.close();
      }
      return 0;
    },
  },
  {
    name: "key list",
    description: "Print every key (name, expiration, metadata) as a JSON array.",
    positionals: [],
    options: { prefix: { type: "string" } },
    async run({ values, io, open }) {
      const ns = await open();
      try {
        const keys: unknown[] = [];
        let cursor: string | undefined;
        do {
          const page = await ns.kv.list({ prefix: values.prefix as string | undefined, cursor });
          keys.push(...page.keys);
          cursor = page.cursor;
        } while (cursor !== undefined);
        io.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
      } finally {
        ns.close();
      }
      return 0;
    },
  },
  {
    name: "key delete",
    description: "Delete one key.",
    positionals: ["key"],
    options: {},
    async run({ args: [key], io, open }) {
      const ns = await open();
      try {
        await ns.kv.delete(key as string);
        io.stdout.write(`Deleted key ${JSON.stringify(key)} from KV namespace ${ns.id}.\n`);
      } finally {
        ns.close();
      }
      return 0;
    },
  },
  {
    name: "bulk put",
    description: "Write the pairs of a JSON file: [{ key, value, expiration?, expiration_ttl?, metadata?, base64? }].",
    positionals: ["file"],
    options: {},
    async run({ args: [file], values, io, open }) {
      const items = readJsonArray(resolve(String(values.cwd ?? "."), file as string), file as string);
      const ns = await open();
      try {
        // Everything is validated before anything is written, and the writes share one transaction,
        // so a bad item leaves the namespace untouched.
        const nowMs = ns.store.clock();
        const errors: string[] = [];
        const writes = items.flatMap((item, i) => {
          try {
            return [bulkItem(item, nowMs)];
          } catch (err) {
            errors.push(`  item ${i}: ${errorMessage(err)}`);
            return [];
          }
        });
        if (errors.length > 0) throw new UsageError(`Invalid entries in ${file}:\n${errors.join("\n")}`);
        ns.store.transaction(() => {
          for (const w of writes) ns.store.put(w.key, w.value, { expiration: w.expiration, metadata: w.metadata });
        });
        io.stdout.write(`Success! Wrote ${writes.length} key-value pairs to KV namespace ${ns.id}.\n`);
      } finally {
        ns.close();
      }
      return 0;
    },
  },
  {
    name: "bulk delete",
    description: "Delete the keys listed in a JSON file: an array of strings.",
    positionals: ["file"],
    options: { force: { type: "boolean", short: "f" } },
    async run({ args: [file], values, io, open }) {
      const items = readJsonArray(resolve(String(values.cwd ?? "."), file as string), file as string);
      const bad = items.flatMap((k, i) => (typeof k === "string" ? [] : [`  item ${i} is ${JSON.stringify(k)}, not a string`]));
      if (bad.length > 0) throw new UsageError(`Invalid entries in ${file}:\n${bad.join("\n")}`);
      const keys = items as string[];
      for (const k of keys) validateKey("DELETE", k);
      const ns = await open();
      try {
        ns.store.transaction(() => {
          for (const k of keys) ns.store.delete(k);
        });
        io.stdout.write(`Success! Deleted ${keys.length} keys from KV namespace ${ns.id}.\n`);
      } finally {
        ns.close();
      }
      return 0;
    },
  },
];

/**
 * Runs `ledge kv <argv...>` and returns the exit code.
 * Example: `await kvCommand(["key", "put", "greeting", "hello", "--binding", "MY_KV"])` → 0.
 */
export async function kvCommand(argv: string[], io: KvCommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const name = argv.slice(0, 2).join(" ");
  const spec = COMMANDS.find((c) => c.name === name);
  if (spec === undefined) {
    const helpAsked = argv.length === 0 || argv.includes("--help") || argv.includes("-h");
    if (!helpAsked) io.stderr.write(`error: unknown command "ledge kv ${argv.slice(0, 2).join(" ")}".\n\n`);
    (helpAsked ? io.stdout : io.stderr).write(usage());
    return helpAsked ? 0 : 1;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv.slice(2), options: { ...COMMON_OPTIONS, ...spec.options }, allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError(errorMessage(err));
    }
    const values = parsed.values as Values;
    if (values.help) {
      io.stdout.write(commandUsage(spec));
      return 0;
    }
    const required = spec.positionals.filter((p) => !p.endsWith("?"));
    if (parsed.positionals.length < required.length) {
      throw new UsageError(`Missing argument <${required[parsed.positionals.length]}>.\n${commandUsage(spec)}`);
    }
    if (parsed.positionals.length > spec.positionals.length) {
      throw new UsageError(`Unexpected argument ${JSON.stringify(parsed.positionals[spec.positionals.length])}.\n${commandUsage(spec)}`);
    }
    return await spec.run({ args: parsed.positionals, values, io, open: () => openNamespace(values) });
  } catch (err) {
    io.stderr.write(`error: ${errorMessage(err)}\n`);
    return 1;
  }
}

async function openNamespace(values: Values): Promise<OpenNamespace> {
  const binding = values.binding as string | undefined;
  const namespaceId = values["namespace-id"] as string | undefined;
  if ((binding === undefined) === (namespaceId === undefined)) {
    throw new UsageError("Give exactly one of --binding <NAME> or --namespace-id <ID>.");
  }
  const cwd = resolve(String(values.cwd ?? "."));
  let id = namespaceId;
  let rootDir = cwd;
  // The config is read only when it is needed: to resolve a binding, or when --config names the
  // project whose state folder to use. Config files are found in the folder itself, not its
  // parents, so without --config the project root is the working directory.
  if (binding !== undefined || values.config !== undefined) {
    const config = await readProjectConfig(cwd, values);
    rootDir = config.rootDir;
    if (binding !== undefined) {
      const found = config.kvNamespaces.find((ns) => ns.binding === binding);
      if (found === undefined) {
        const known = config.kvNamespaces.map((ns) => ns.binding);
        throw new UsageError(
          `No KV namespace with binding "${binding}" in ${config.configPath}. ` +
            (known.length > 0 ? `Known bindings: ${known.join(", ")}.` : "It declares no kv_namespaces."),
        );
      }
      id = found.id;
    }
  }
  // Same default as `ledge dev`, so the CLI edits the data the running app sees.
  const persistDir = values["persist-to"] !== undefined ? resolve(cwd, String(values["persist-to"])) : resolve(rootDir, ".ledge", "state");
  const warning = makePrivateDir(persistDir);
  if (warning) process.stderr.write(`${warning}\n`);
  const store = new KvStore(kvDbPath(persistDir, id as string));
  return { id: id as string, store, kv: new KVNamespace(store), close: () => store.close() };
}

interface ProjectKvConfig {
  configPath: string;
  rootDir: string;
  kvNamespaces: { binding: string; id: string }[];
}

async function readProjectConfig(cwd: string, values: Values): Promise<ProjectKvConfig> {
  // Loaded on demand so commands given --namespace-id and --persist-to never touch config parsing.
  const { loadConfig } = await (await import("../config/cached.js")).loadValidator();
  const configPath = values.config === undefined ? undefined : resolve(cwd, String(values.config));
  const env = values.env as string | undefined;
  return await loadConfig(cwd, { configPath, env });
}

interface BulkWrite {
  key: string;
  value: Uint8Array;
  expiration: number | null;
  metadata: unknown;
}

const BULK_FIELDS = new Set(["key", "value", "expiration", "expiration_ttl", "metadata", "base64"]);

function bulkItem(item: unknown, nowMs: number): BulkWrite {
  if (typeof item !== "object" || item === null || Array.isArray(item)) throw new Error("expected an object");
  const o = item as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !BULK_FIELDS.has(k));
  if (unknown.length > 0) throw new Error(`unexpected properties ${unknown.join(", ")}`);
  if (typeof o.key !== "string") throw new Error('"key" must be a string');
  if (typeof o.value !== "string") throw new Error('"value" must be a string');
  if (o.base64 !== undefined && typeof o.base64 !== "boolean") throw new Error('"base64" must be a boolean');
  for (const f of ["expiration", "expiration_ttl"]) {
    if (o[f] !== undefined && typeof o[f] !== "number") throw new Error(`"${f}" must be a number`);
  }
  validateKey("PUT", o.key);
  const value = o.base64 === true ? Buffer.from(o.value, "base64") : Buffer.from(o.value, "utf8");
  if (value.byteLength > KV_LIMITS.maxValueBytes) throw valueTooLarge(value.byteLength);
  const { expiration, metadata } = validatePutOptions(
    { expiration: o.expiration, expirationTtl: o.expiration_ttl, metadata: o.metadata },
    nowMs,
  );
  return { key: o.key, value, expiration, metadata };
}

function readJsonArray(path: string, shown: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`Cannot read ${shown}: ${errorMessage(err)}`);
  }
  const content = parseJsonFlag(shown, text);
  if (!Array.isArray(content)) throw new UsageError(`${shown} must contain a JSON array, not ${typeof content}.`);
  return content;
}

function parseJsonFlag(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} is not valid JSON: ${errorMessage(err)}`);
  }
}

function numberFlag(flag: string, raw: string | boolean | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n)) {
    throw new UsageError(`${flag} must be a number of seconds, got ${JSON.stringify(raw)}.`);
  }
  return n;
}

function commandUsage(spec: CommandSpec): string {
  const args = spec.positionals.map((p) => (p.endsWith("?") ? `[${p.slice(0, -1)}]` : `<${p}>`)).join(" ");
  const own = Object.entries(spec.options).map(([k, o]) => `--${k}${o.type === "string" ? " <value>" : ""}`);
  return (
    `Usage: ledge kv ${spec.name}${args ? ` ${args}` : ""} (--binding <NAME> | --namespace-id <ID>)` +
    `${own.length ? ` [${own.join("] [")}]` : ""}\n  ${spec.description}\n`
  );
}

function usage(): string {
  return (
    "Usage: ledge kv <key|bulk> <command> [args] (--binding <NAME> | --namespace-id <ID>)\n\n" +
    COMMANDS.map((c) => `  ledge kv ${c.name.padEnd(12)} ${c.description}`).join("\n") +
    "\n\nCommon flags:\n" +
    "  --binding <NAME>       a kv_namespaces binding of the project's wrangler config\n" +
    "  --namespace-id <ID>    a namespace id, without reading the config\n" +
    "  -c, --config <path>    the config file (default: wrangler.json, .jsonc or .toml in the working folder)\n" +
    "  -e, --env <name>       use the config's [env.<name>] section\n" +
    "  --cwd <dir>            run as if started in <dir>\n" +
    "  --persist-to <dir>     state folder (default: <project>/.ledge/state, as ledge dev)\n"
  );
}
