/**
 * `--var` for one app or several. `--var KEY:VALUE` sets a var of the only app served;
 * `--var APP/KEY:VALUE` sets it for the app named APP. With several apps (`ledge serve A B`) every
 * `--var` must name its app: a value meant for one app must not reach the others. `/` cannot
 * appear in an app name, so it never splits a value (values keep their colons: URLs).
 */
import { parseVarFlag } from "../config/cli-helpers.js";
import { LedgeError } from "../shared/errors.js";

export interface VarFlag {
  /** The app it is for; undefined = the only app. */
  app?: string;
  key: string;
  value: string;
}

/**
 * Parses every `--var`; refuses one without an app when `appCount` > 1.
 * Example: `parseVarFlags(["auth/TOKEN_TTL:60"], 2)` → `[{ app: "auth", key: "TOKEN_TTL", value: "60" }]`.
 */
export function parseVarFlags(raw: readonly string[], appCount: number): VarFlag[] {
  return raw.map((s) => {
    const [target, value] = parseVarFlag(s);
    const slash = target.indexOf("/");
    const app = slash < 0 ? undefined : target.slice(0, slash);
    const key = slash < 0 ? target : target.slice(slash + 1);
    if (app === "" || key === "") throw new LedgeError("LEDGE_CLI", `--var ${target}: expected APP/KEY:VALUE, e.g. --var auth/API_URL:https://example.com`);
    if (app === undefined && appCount > 1) {
      throw new LedgeError(
        "LEDGE_CLI",
        `--var ${key} names no app, and ${appCount} apps are served; give it to one of them with --var APP/${key}:VALUE (APP is the app's name)`,
      );
    }
    return { app, key, value };
  });
}

/** The vars `flags` give the app named `app` (a flag naming it wins over one naming no app); undefined when none. */
export function varsFor(flags: readonly VarFlag[], app: string | undefined): Record<string, string> | undefined {
  const own = [...flags.filter((f) => f.app === undefined), ...flags.filter((f) => f.app !== undefined && f.app === app)];
  return own.length === 0 ? undefined : Object.fromEntries(own.map((f) => [f.key, f.value]));
}

/** Refuses `--var APP/...` for an app that is not served. */
export function checkVarFlagApps(flags: readonly VarFlag[], served: readonly string[]): void {
  const unknown = flags.find((f) => f.app !== undefined && !served.includes(f.app));
  if (unknown) {
    throw new LedgeError("LEDGE_CLI", `--var ${unknown.app}/${unknown.key}: no app named "${unknown.app}" is served (apps: ${served.join(", ")})`);
  }
}
