/**
 * The values of `env` that are plain data: `vars`, then `.dev.vars` secrets over them, then `--var`
 * flags over both.
 */
import path from "node:path";
import type { NamedBinding } from "./bindings.js";
import { readDevVars } from "./dev-vars.js";
import { displayPath, formatPath, type FieldPath, type Problems } from "./internal.js";

export interface ComposedVars {
  vars: Record<string, unknown>;
  secretNames: string[];
  /** Each var once, named by where it was first declared (for the duplicate-name check). */
  named: NamedBinding[];
}

export function composeVars(options: {
  vars: Record<string, unknown> | undefined;
  varsAt: FieldPath;
  requiredSecrets: readonly string[] | undefined;
  secretsAt: FieldPath;
  rootDir: string;
  envName: string | undefined;
  flags: Record<string, string> | undefined;
  problems: Problems;
}): ComposedVars {
  const { problems } = options;
  const vars: Record<string, unknown> = {};
  const declaredAt = new Map<string, string>();
  for (const [key, value] of Object.entries(options.vars ?? {})) {
    vars[key] = value;
    declaredAt.set(key, formatPath([...options.varsAt, "vars", key]));
  }

  const devVars = readDevVars(options.rootDir, options.envName);
  const secretNames: string[] = [];
  if (devVars !== undefined) {
    const fileName = path.basename(devVars.file);
    for (const { line, reason } of devVars.skipped) {
      problems.warn(undefined, `${displayPath(devVars.file)} line ${line} skipped: ${reason}.`);
    }
    for (const [key, value] of Object.entries(devVars.values)) {
      vars[key] = value;
      secretNames.push(key);
      if (!declaredAt.has(key)) declaredAt.set(key, `${fileName} ${key}`);
    }
  }

  for (const [key, value] of Object.entries(options.flags ?? {})) {
    // A name that came from .dev.vars stays in secretNames: erring towards never printing a value.
    vars[key] = value;
    if (!declaredAt.has(key)) declaredAt.set(key, `--var ${key}`);
  }

  // `secrets.required` (wrangler 2026) declares names the Worker expects; locally they come from .dev.vars.
  for (const name of options.requiredSecrets ?? []) {
    if (!(name in vars)) {
      problems.warn(
        formatPath([...options.secretsAt, "secrets", "required"]),
        `secret "${name}" is required but not set; add ${name}=... to ${devVars === undefined ? ".dev.vars" : path.basename(devVars.file)} next to the config file.`,
      );
    }
  }

  return { vars, secretNames, named: [...declaredAt].map(([name, at]) => ({ name, declaredAt: at })) };
}
