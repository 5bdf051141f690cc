/**
 * `ledge` command line. Each command is one module with its help text and handler; this file only
 * dispatches. User mistakes are printed as one clear message without a stack, exit code 1.
 */
import process from "node:process";
import { LedgeError } from "../shared/errors.js";

const VERSION = "0.1.0";

const HELP = `ledge ${VERSION} — run Cloudflare Workers + Durable Objects projects on your own machines

Usage: ledge <command> [options]

Commands:
  dev [DIR]        Serve the project in DIR (default: .) and reload on every change
  serve [DIR]      Serve the project without watching (production on one machine)
  kv ...           Read and write KV namespaces (like wrangler kv): key put|get|list|delete, bulk put|delete
  secret ...       An app's encrypted secrets (like wrangler secret): put NAME (value from stdin or a
                   prompt, never argv), list, delete NAME

Run "ledge <command> --help" for a command's options.
State folders are private (0700, files 0600); apps reach each other's KV, objects and services only
with serve --trust A,B. See docs/security.md.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case "-h":
    case "--help":
    case "help":
      process.stdout.write(HELP);
      return 0;
    case "-v":
    case "--version":
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case "dev":
    case "serve": {
      // Boot the first isolate before anything else: a worker thread takes ~80 ms to load its
      // runtime, the longest step of start-up, and it overlaps with everything below.
      const wantsHelp = rest.includes("--help") || rest.includes("-h");
      const prestarted = wantsHelp ? [] : [new (await import("../runtime/isolate-handle.js")).IsolateHandle(128)];
      const { serveCommand } = await import("./serve.js");
      try {
        return await serveCommand(rest, { watch: cmd === "dev", prestarted });
      } catch (err) {
        for (const h of prestarted) void h.worker.terminate();
        throw err;
      }
    }
    case "kv": {
      const { kvCommand } = await import("./kv.js");
      return kvCommand(rest);
    }
    case "secret": {
      const { secretCommand } = await import("./secret.js");
      return secretCommand(rest);
    }
    default:
      process.stderr.write(`Unknown command "${cmd}".\n\n${HELP}`);
      return 1;
  }
}

// State (objects, KV, secrets, the node key) and build caches are this user's alone: every file
// the CLI and its isolates create is 0600 and every folder 0700.
process.umask(0o077);

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof LedgeError && err.kind === "user") process.stderr.write(`✘ ${err.message}\n`);
    else if (err instanceof Error && err.name === "ConfigError") process.stderr.write(`✘ ${err.message}\n`);
    else process.stderr.write(`✘ ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
