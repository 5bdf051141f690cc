/**
 * `ledge secret put|list|delete`: an app's stored secrets, mirroring `wrangler secret`. A value is
 * read from stdin when it is piped, or from a prompt that does not echo; never from the command
 * line, where it would land in shell history and in every user's `ps`. Values are never printed.
 *
 * The app is the one whose wrangler config is in DIR (default: the working folder), or `--name`
 * without reading a config; its state folder is DIR/.ledge/state unless `--persist-to` says
 * otherwise, as for `ledge serve` and `ledge kv`.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { deleteSecret, listSecretNames, putSecret, secretsFile, validateSecretName } from "../secrets/index.js";
import { errorMessage, LedgeError } from "../shared/errors.js";
import { makePrivateDir } from "../shared/private-dir.js";
import { readHidden } from "./prompt.js";

const USAGE = `Usage: ledge secret <command> [NAME] [DIR] [options]

  ledge secret put NAME [DIR]      Store a secret for the app in DIR (default: .). The value is read
                                   from stdin when piped (one trailing newline is dropped), else
                                   from a prompt that does not echo. Replaces an existing value.
  ledge secret list [DIR]          Print the app's secret names (never values) as JSON
  ledge secret delete NAME [DIR]   Delete a secret

Options:
  --name APP             The app, without reading a config (default: the name in DIR's config)
  -c, --config FILE      The config file (default: wrangler.json, .jsonc or .toml in DIR)
  -e, --env NAME         Use the config's [env.NAME] section (the app is then <name>-NAME, as on Cloudflare)
  --persist-to DIR       State folder (default: DIR/.ledge/state, as ledge serve)

Secrets are encrypted with AES-256-GCM under the node key: LEDGE_SECRET_KEY (64 hex digits) when
set, else PERSIST_DIR/secret.key (created 0600 on first put). A running app sees a change at its
next start. Secrets reach only their own app's env; see docs/security.md.
`;

export interface SecretCommandIo {
  stdin: NodeJS.ReadStream;
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

interface Target {
  app: string;
  persistDir: string;
}

/**
 * Runs `ledge secret <argv...>` and returns the exit code.
 * Example: `echo -n "sk_live_..." | ledge secret put STRIPE_KEY ./billing`.
 */
export async function secretCommand(argv: string[], io: SecretCommandIo = process): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "--help" || verb === "-h" || verb === "help") {
    io.stdout.write(USAGE);
    return 0;
  }
  const arity = { put: 1, delete: 1, list: 0 }[verb];
  if (arity === undefined) {
    io.stderr.write(`error: unknown command "ledge secret ${verb}".\n\n${USAGE}`);
    return 1;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        name: { type: "string" },
        config: { type: "string", short: "c" },
        env: { type: "string", short: "e" },
        "persist-to": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length < arity) throw new LedgeError("LEDGE_CLI", `ledge secret ${verb} needs the secret's NAME.\n${USAGE}`);
    if (positionals.length > arity + 1) throw new LedgeError("LEDGE_CLI", `unexpected argument ${JSON.stringify(positionals[arity + 1])}.\n${USAGE}`);
    const name = arity === 1 ? positionals[0]! : undefined;
    const target = await resolveTarget(positionals[arity], values);
    if (verb === "list") {
      io.stdout.write(`${JSON.stringify(listSecretNames(target.persistDir, target.app).map((n) => ({ name: n, type: "secret_text" })), null, 2)}\n`);
      return 0;
    }
    validateSecretName(name!);
    if (verb === "delete") {
      if (!deleteSecret(target.persistDir, target.app, name!)) throw new LedgeError("LEDGE_SECRET_NOT_FOUND", `app "${target.app}" has no secret named "${name}"`);
      io.stdout.write(`Deleted secret "${name}" of app "${target.app}". The app sees it gone at its next start.\n`);
      return 0;
    }
    const value = io.stdin.isTTY
      ? await readHidden(io.stdin, io.stderr, `Enter the value of secret "${name}" for app "${target.app}": `)
      : dropTrailingNewline(await readAll(io.stdin));
    const warning = makePrivateDir(target.persistDir);
    if (warning) io.stderr.write(`${warning}\n`);
    const key = putSecret(target.persistDir, target.app, name!, value);
    io.stdout.write(
      `Stored secret "${name}" for app "${target.app}" in ${secretsFile(target.persistDir, target.app)}, encrypted with the key from ${key.source}. The app sees it at its next start.\n`,
    );
    return 0;
  } catch (err) {
    io.stderr.write(`error: ${errorMessage(err)}\n`);
    return 1;
  }
}

async function resolveTarget(dirArg: string | undefined, values: { name?: string; config?: string; env?: string; "persist-to"?: string }): Promise<Target> {
  const dir = resolve(dirArg ?? ".");
  // `ledge secret put NAME VALUE` is the likely mistake; say so without echoing what may be the value.
  if (dirArg !== undefined && !existsSync(dir)) {
    throw new LedgeError("LEDGE_CLI", "the DIR argument is not an existing project folder. A secret's value is never an argument: pipe it in or type it at the prompt");
  }
  let app = values.name;
  let rootDir = dir;
  if (app === undefined) {
    const { loadConfig } = await (await import("../config/cached.js")).loadValidator();
    const config = await loadConfig(dir, { env: values.env, configPath: values.config === undefined ? undefined : resolve(values.config) });
    app = config.name;
    rootDir = config.rootDir;
  }
  const persistDir = values["persist-to"] !== undefined ? resolve(values["persist-to"]) : resolve(rootDir, ".ledge", "state");
  return { app, persistDir };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** `echo value | ledge secret put X` ends the value with a newline that is not part of it. */
function dropTrailingNewline(s: string): string {
  return s.endsWith("\r\n") ? s.slice(0, -2) : s.endsWith("\n") ? s.slice(0, -1) : s;
}
