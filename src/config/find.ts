import fs from "node:fs";
import path from "node:path";
import { ConfigError, type ConfigOverrides } from "./types.js";

/**
 * Config file names in wrangler's order of precedence. Wrangler tries `wrangler.json`, then
 * `wrangler.jsonc`, then `wrangler.toml` (workers-sdk `findWranglerConfig`), so a project that works
 * with wrangler picks the same file here.
 */
export const CONFIG_FILE_NAMES = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"] as const;

/**
 * Returns the absolute path of the config file in `dir` (not its parents), or undefined.
 * Example: `findConfigFile("./my-app")` → `/home/me/my-app/wrangler.toml`.
 */
export function findConfigFile(dir: string): string | undefined {
  return presentConfigFiles(dir)[0];
}

function presentConfigFiles(dir: string): string[] {
  return CONFIG_FILE_NAMES.map((name) => path.resolve(dir, name)).filter((file) => isFile(file));
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Decides which file to read. `overrides.configPath` (the CLI's `--config`, relative to the working
 * directory) wins; otherwise `dirOrFile` is either the file itself or the folder to search.
 */
export function resolveConfigFile(
  dirOrFile: string,
  overrides: ConfigOverrides,
): { configPath: string; warnings: string[] } {
  if (overrides.configPath !== undefined) {
    const configPath = path.resolve(overrides.configPath);
    if (!isFile(configPath)) {
      throw new ConfigError(`Config file ${configPath} (given with --config) does not exist or is not a file.`, configPath);
    }
    return { configPath, warnings: [] };
  }

  const target = path.resolve(dirOrFile);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    throw new ConfigError(`${target} does not exist. Pass a project folder or a wrangler config file.`, target);
  }
  if (stat.isFile()) return { configPath: target, warnings: [] };

  const present = presentConfigFiles(target);
  if (present.length === 0) {
    throw new ConfigError(
      `No config file found in ${target}: looked for ${CONFIG_FILE_NAMES.join(", ")}. ` +
        `Create one, e.g. wrangler.toml with name = "my-worker", main = "src/index.ts", compatibility_date = "2026-11-01".`,
      target,
    );
  }
  const warnings: string[] = [];
  if (present.length > 1) {
    const names = present.map((file) => path.basename(file));
    warnings.push(
      `Found ${names.join(" and ")} in ${target}; using ${names[0]} (wrangler's order: ${CONFIG_FILE_NAMES.join(", ")}). ` +
        `Delete the others to silence this warning.`,
    );
  }
  return { configPath: present[0]!, warnings };
}
