/**
 * Bundles an app with esbuild into one CommonJS file the isolate evaluates
 * (src/runtime/isolate/evaluate.ts): TypeScript, the app's own node_modules, `cloudflare:*`
 * imports (provided by the runtime), and wrangler's module rules (Text → string, Data →
 * ArrayBuffer, CompiledWasm → WebAssembly.Module).
 */
import { readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { resolve } from "node:path";
import * as esbuild from "esbuild";
import type { AppConfig, ModuleRuleConfig } from "../config/types.js";
import { RUNTIME_REQUIRE } from "../shared/bundle-format.js";
import { LedgeError } from "../shared/errors.js";
import { displayPath, isInside } from "../shared/paths.js";

export interface BundleResult {
  code: string;
  /** Files the bundle was built from (for `dev` to watch). */
  inputs: string[];
  buildMs: number;
}

export class BuildError extends LedgeError {
  constructor(message: string) {
    super("LEDGE_BUILD", message);
    this.name = "BuildError";
  }
}

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

export async function bundle(config: AppConfig): Promise<BundleResult> {
  const t0 = performance.now();
  // The config validator refuses such a main; this holds for configs that reach here without it.
  if (!isInside(config.rootDir, config.main)) throw new BuildError(`Build failed: main (${config.main}) is outside the project folder ${config.rootDir}.`);
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [config.main],
      absWorkingDir: config.rootDir,
      bundle: true,
      write: false,
      metafile: true,
      format: "cjs",
      platform: "browser",
      target: "es2022",
      // `import(computed)` becomes a `require` of the runtime's modules: the isolate attaches no
      // module loader to user code (src/runtime/isolate/evaluate.ts).
      supported: { "dynamic-import": false },
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["browser", "module", "main"],
      sourcemap: false,
      logLevel: "silent",
      legalComments: "none",
      define: config.nodejsCompat ? {} : { "process.env.NODE_ENV": '"production"' },
      plugins: [runtimeModules(config), moduleRules(config.rules)],
    });
  } catch (err) {
    throw new BuildError(formatBuildFailure(err, config.rootDir));
  }
  const code = result.outputFiles[0]!.text;
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.includes(":") || /^[a-zA-Z]:/.test(p))
    .map((p) => (p.startsWith("/") ? p : `${config.rootDir}/${p}`));
  return { code, inputs, buildMs: performance.now() - t0 };
}

/**
 * `cloudflare:*` are provided by the runtime; Node built-ins too, but only with nodejs_compat. Each
 * becomes a small module that asks the runtime for it through RUNTIME_REQUIRE (see
 * src/shared/bundle-format.ts) rather than an external `require()` call.
 */
function runtimeModules(config: AppConfig): esbuild.Plugin {
  const provided = (path: string) => ({ path, namespace: "ledge-runtime" });
  return {
    name: "ledge-runtime-modules",
    setup(b) {
      b.onResolve({ filter: /^cloudflare:/ }, (args) => provided(args.path));
      b.onLoad({ filter: /.*/, namespace: "ledge-runtime" }, (args) => ({
        contents: `module.exports = ${RUNTIME_REQUIRE}(${JSON.stringify(args.path)});`,
        loader: "js",
      }));
      b.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
        if (!NODE_BUILTINS.has(args.path)) return undefined;
        if (config.nodejsCompat) return provided(args.path);
        return {
          errors: [
            {
              text: `Could not resolve "${args.path}": Node.js APIs need Node.js compatibility. Add "nodejs_compat" to compatibility_flags in ${displayPath(config.configPath)} (or set compatibility_date to 2026-08-04 or later).`,
            },
          ],
        };
      });
    },
  };
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (glob[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`(?:^|/)${re}$`);
}

/** wrangler's `rules`: import `.txt`/`.html` as text, `.bin` as ArrayBuffer, `.wasm` as a Module. */
function moduleRules(rules: ModuleRuleConfig[]): esbuild.Plugin {
  const compiled = rules
    .filter((r) => r.type === "Text" || r.type === "Data" || r.type === "CompiledWasm")
    .map((r) => ({ type: r.type, res: r.globs.map(globToRegExp) }));
  const typeOf = (path: string) => compiled.find((r) => r.res.some((re) => re.test(path)))?.type;
  return {
    name: "ledge-module-rules",
    setup(b) {
      b.onResolve({ filter: /\?module$/ }, async (args) => {
        const r = await b.resolve(args.path.slice(0, -"?module".length), { resolveDir: args.resolveDir, kind: args.kind });
        if (r.errors.length) return { errors: r.errors };
        return { path: r.path, namespace: "ledge-rule", pluginData: "CompiledWasm" };
      });
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.namespace === "ledge-rule" || args.pluginData === "ledge-skip") return undefined;
        if (!/\.[a-zA-Z0-9]+$/.test(args.path)) return undefined;
        const r = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: "ledge-skip" });
        if (r.errors.length || r.external) return undefined;
        const type = typeOf(r.path);
        if (!type) return undefined;
        return { path: r.path, namespace: "ledge-rule", pluginData: type };
      });
      b.onLoad({ filter: /.*/, namespace: "ledge-rule" }, async (args) => {
        const bytes = await readFile(args.path);
        const type = args.pluginData as string;
        if (type === "Text") return { contents: `export default ${JSON.stringify(bytes.toString("utf8"))};`, loader: "js" };
        const b64 = JSON.stringify(bytes.toString("base64"));
        const decode = `(() => { const s = atob(${b64}); const u = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return u; })()`;
        if (type === "Data") return { contents: `export default ${decode}.buffer;`, loader: "js" };
        return { contents: `export default new WebAssembly.Module(${decode});`, loader: "js" };
      });
    },
  };
}

/**
 * esbuild's messages, one per line, each naming its file so it can be opened from the user's
 * working directory (esbuild names files relative to the project folder, which is not the working
 * directory when `ledge serve some/dir` runs). A file outside the project (a hoisted dependency, or
 * whatever an import points at) is named, but neither its lines nor esbuild's text about it are
 * shown: that text quotes the file (`Expected ";" but found "hunter2"`), and such a file may be
 * anything on the machine.
 */
function formatBuildFailure(err: unknown, root: string): string {
  const failure = err as { errors?: esbuild.Message[] };
  if (!failure.errors?.length) return `Build failed: ${(err as Error).message}`;
  const lines = failure.errors.map((m) => {
    if (!m.location) return m.text;
    const file = resolve(root, m.location.file);
    const loc = `${displayPath(file)}:${m.location.line}:${m.location.column + 1}: `;
    if (!isInside(root, file)) return `${loc}cannot be bundled (the file is outside the project folder ${root}, so its contents are not shown)`;
    return `${loc}${m.text}${m.location.lineText ? `\n    ${m.location.lineText}` : ""}`;
  });
  return `Build failed with ${lines.length} error${lines.length === 1 ? "" : "s"}:\n${lines.join("\n")}`;
}
