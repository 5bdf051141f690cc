/**
 * Start-up fast path: the validated config of the last start, reused when nothing it was built
 * from has changed (the config file, the names in the `.dev.vars` file, the command-line overrides,
 * the day — the default compatibility date depends on it — and Ledge's version). A miss loads the
 * full validator (zod, the TOML and JSONC parsers), which alone costs tens of milliseconds.
 *
 * Values from `.dev.vars` and `--var` never reach the cached file, nor its name's hash: they are
 * left out when it is written and merged back, freshly read, on every start.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isInside } from "../shared/paths.js";
import { readDevVars } from "./dev-vars.js";
import { resolveConfigFile } from "./find.js";
import type { AppConfig, ConfigOverrides } from "./types.js";

/** Bumped whenever validation or the cached shape changes, so older entries are checked again. */
const CACHE_VERSION = "3";

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "\u0000missing";
  }
}

export async function loadConfigCached(dirOrFile: string, overrides: ConfigOverrides): Promise<AppConfig> {
  const { configPath } = resolveConfigFile(dirOrFile, overrides);
  const root = dirname(configPath);
  const devVars = readDevVars(root, overrides.env);
  // Everything that shapes the loaded config besides those values: which keys exist (duplicate
  // names, `secrets.required`) and which lines were skipped (warnings).
  const localValues = { ...devVars?.values, ...overrides.vars };
  const h = createHash("sha256");
  h.update(CACHE_VERSION).update("\0").update(configPath).update("\0").update(readOr(configPath));
  h.update("\0").update(JSON.stringify({ devVars: devVars && { file: devVars.file, keys: Object.keys(devVars.values), skipped: devVars.skipped } }));
  h.update("\0").update(JSON.stringify({ env: overrides.env, vars: Object.keys(overrides.vars ?? {}), day: new Date().toISOString().slice(0, 10) }));
  const cacheDir = join(root, ".ledge", "build");
  const cacheName = `config-${h.digest("hex").slice(0, 32)}.json`;
  try {
    const cached = JSON.parse(readFileSync(join(cacheDir, cacheName), "utf8")) as AppConfig;
    // `main` must still exist: its absence is a config error the full loader reports well. The file
    // sits in the project, so it is only trusted to describe this project, with main inside it.
    if (cached.configPath === configPath && cached.rootDir === root && isInside(root, cached.main) && existsSync(cached.main)) {
      return { ...cached, vars: { ...cached.vars, ...localValues } };
    }
  } catch {
    // No cache yet, or unreadable: fall through to the full load.
  }
  const { loadConfig } = await loadValidator();
  const config = await loadConfig(dirOrFile, overrides);
  try {
    mkdirSync(cacheDir, { recursive: true });
    const vars = Object.fromEntries(Object.entries(config.vars).filter(([k]) => !Object.hasOwn(localValues, k)));
    const tmp = join(cacheDir, `${cacheName}.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify({ ...config, vars }));
    renameSync(tmp, join(cacheDir, cacheName));
    // One entry per project is enough, and older ones (before CACHE_VERSION 2) held secret values.
    for (const f of readdirSync(cacheDir)) if (/^config-[0-9a-f]{32}\.json$/.test(f) && f !== cacheName) rmSync(join(cacheDir, f), { force: true });
  } catch {
    // A read-only project folder only loses the fast path.
  }
  return config;
}

/** The full validator, from its one-file bundle when `npm run build` made one (scripts/bundle.mjs). */
export async function loadValidator(): Promise<typeof import("./index.js")> {
  const bundled = new URL("./config.bundle.mjs", import.meta.url);
  if (existsSync(bundled)) return (await import(bundled.href)) as typeof import("./index.js");
  return import("./index.js");
}
