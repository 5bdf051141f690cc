/** Light helpers the CLI needs before (or without) loading the full config validator. */
import { displayPath } from "./internal.js";
import { ConfigError, type AppConfig } from "./types.js";

/**
 * Parses the CLI's `--var KEY:VALUE`. The value may itself contain colons (URLs).
 * Example: `parseVarFlag("API_URL:https://example.com")` → `["API_URL", "https://example.com"]`.
 */
export function parseVarFlag(s: string): [string, string] {
  const colon = s.indexOf(":");
  if (colon <= 0) {
    // Echo the key only: `KEY=value` (dotenv syntax) is the likely mistake, and its value may be a secret.
    const eq = s.indexOf("=");
    const shown = colon < 0 && eq >= 0 ? `${s.slice(0, eq)}=…` : colon === 0 ? ":…" : s;
    throw new ConfigError(
      `--var expects KEY:VALUE, e.g. --var API_URL:https://example.com; got ${JSON.stringify(shown)}${colon === 0 ? " (the key is empty)" : " (no colon)"}.`,
      undefined,
      "--var",
    );
  }
  return [s.slice(0, colon), s.slice(colon + 1)];
}

/**
 * The config's warnings as a block for the terminal, naming the file once; "" when there are none.
 * Example output:
 *   Warnings in wrangler.toml:
 *     - compatiblity_date: unknown field, ignored. ...
 */
export function formatConfigWarnings(config: Pick<AppConfig, "configPath" | "warnings">): string {
  if (config.warnings.length === 0) return "";
  return [`Warnings in ${displayPath(config.configPath)}:`, ...config.warnings.map((w) => `  - ${w}`)].join("\n");
}
