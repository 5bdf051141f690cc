/**
 * Start-up fast path: the validated config of the last start, reused when nothing it was built
 * from has changed (the config file, the `.dev.vars` files, the command-line overrides, the
 * day — the default compatibility date depends on it — and Ledge's version). A miss loads the
 * full validator (zod, the TOML and JSONC parsers), which alone costs tens of milliseconds.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isInside } from "../shared/paths.js";
import { resolveConfigFile } from "./find.js";
import type { AppConfig, ConfigOverrides } from "./types.js";

/** Bumped whenever validation changes, so configs cached under older rules are checked again. */
const CACHE_VERSION = "2";

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
  const h = createHash("sha256");
  h.update(CACHE_VERSION).update("\0").update(configPath).update("\0").update(readOr(configPath));
  h.update("\0").update(readOr(join(root, ".dev.vars")));
  if (overrides.env) h.update("\0").update(readOr(join(root, `.dev.vars.${overrides.env}`)));
  h.update("\0").update(JSON.stringify({ env: overrides.env, vars: overrides.vars, day: new Date().toISOString().slice(0, 10) }));
  const cacheFile = join(root, ".ledge", "build", `config-${h.digest("hex").slice(0, 32)}.json`);
  try {
    const cached = JSON.parse(readFileSync(cacheFile, "utf8")) as AppConfig;
    // `main` must still exist: its absence is a config error the full loader reports well. The file
    // sits in the project, so it is only trusted to describe this project, with main inside it.
    if (cached.configPath === configPath && cached.rootDir === root && isInside(root, cached.main) && existsSync(cached.main)) return cached;
  } catch {
    // No cache yet, or unreadable: fall through to the full load.
  }
  const { loadConfig } = await loadValidator();
  const config = await loadConfig(dirOrFile, overrides);
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(config));
    renameSync(tmp, cacheFile);
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
