/**
 * Gives meaning to a well-shaped config: defaults, paths checked on disk, dates, crons, limits,
 * routes, and informational warnings for fields Ledge accepts but does not act on.
 */
import fs from "node:fs";
import path from "node:path";
import { Cron } from "croner";
import { CLOUDFLARE_CRON_OPTIONS } from "../cron/index.js";
import type { SelectedConfig } from "./environments.js";
import { exampleFor } from "./issues.js";
import { errorMessage } from "../shared/errors.js";
import { MAX_WORKER_NAME_LENGTH, appNameProblem } from "../shared/names.js";
import { isInside } from "../shared/paths.js";
import { describeValue, formatPath, type FieldPath, type Problems } from "./internal.js";
import type { RawRoute } from "./schema.js";
import type { LimitsConfig, RouteConfig } from "./types.js";

/** `nodejs_compat` is on by default from this compatibility date (workerd, July 2026). */
export const NODEJS_COMPAT_DEFAULT_DATE = "2026-08-04";

/**
 * The Worker's name: `name` (already checked against Cloudflare's rule by the schema), else, as
 * wrangler does when it is absent or "", the project folder's name made safe for logs and storage
 * paths. An environment adds `-<env>` unless its section sets `name` (see environments.ts). The
 * folder's name keeps its case: state stored under it must stay where it is.
 */
export function resolveName(sel: SelectedConfig, rootDir: string, problems: Problems): string {
  const written = sel.raw.name;
  const suffix = sel.envName === undefined ? "" : `-${sel.envName}`;
  const name = written === undefined || written === "" ? `${folderName(rootDir)}${suffix}` : written;
  const expected = appNameProblem(name);
  if (expected !== undefined) {
    // A name written in the file passed the schema; only one with `-<env>` appended can fail here.
    const why = sel.envName === undefined ? "" : ` (the Worker name for --env ${JSON.stringify(sel.envName).slice(0, 70)})`;
    problems.error(
      formatPath([...sel.origin("name"), "name"]),
      `found ${describeValue(name, problems.format)}${why}, expected ${expected}. Set a shorter name, e.g. ${problems.example("name", "my-worker")}`,
    );
  }
  return name;
}

function folderName(rootDir: string): string {
  const safe = path.basename(rootDir).replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^[-_]+|-+$/g, "");
  return safe.slice(0, MAX_WORKER_NAME_LENGTH).replace(/-+$/, "") || "worker";
}

/**
 * Absolute path of `main`, resolved against the config file's folder. It must be a file inside the
 * project folder: a Worker's code is its project's, and a build error shows lines of the entry
 * module, which must never be a file from elsewhere on the machine (`main = "/etc/passwd"`).
 */
export function resolveMain(sel: SelectedConfig, rootDir: string, problems: Problems): string {
  const field = formatPath([...sel.origin("main"), "main"]);
  const main = sel.raw.main;
  if (main === undefined) {
    problems.error(field, `missing; expected the path of your Worker's entry module, relative to the config file. Example: ${exampleFor(problems, ["main"])}`);
    return path.join(rootDir, "src", "index.ts");
  }
  const resolved = path.resolve(rootDir, main);
  const written = describeValue(main, problems.format);
  if (main.includes("\0") || !isInside(rootDir, resolved)) {
    problems.error(field, `${written} is outside the project folder ${rootDir}; the entry module must be inside it. Example: ${exampleFor(problems, ["main"])}`);
    return resolved;
  }
  let isFile = false;
  try {
    isFile = fs.statSync(resolved).isFile();
  } catch {
    // A missing file is reported below, with the path the user can check.
  }
  if (!isFile) {
    problems.error(field, `the entry module ${resolved} does not exist or is not a file (main = ${written} is resolved relative to ${rootDir}).`);
  } else if (!isInside(fs.realpathSync(rootDir), fs.realpathSync(resolved))) {
    problems.error(field, `${written} is a link to a file outside the project folder ${rootDir}; the entry module must be inside it.`);
  }
  return resolved;
}

/**
 * `assets.directory` is not served yet (a warning says so), but it is checked now so that a config
 * that will be served later cannot point outside the project (`directory = "../../"`).
 */
export function checkAssetsDirectory(sel: SelectedConfig, rootDir: string, problems: Problems): void {
  const directory = sel.raw.assets?.directory;
  if (directory === undefined || (!directory.includes("\0") && isInside(rootDir, path.resolve(rootDir, directory)))) return;
  problems.error(
    formatPath([...sel.origin("assets"), "assets", "directory"]),
    `${describeValue(directory, problems.format)} is outside the project folder ${rootDir}; static assets must be inside it. Example: ${problems.example("directory", "./public")}`,
  );
}

/** `compatibility_date`, or today's date in UTC (with a warning) when absent. */
export function resolveCompatibilityDate(sel: SelectedConfig, now: Date, problems: Problems): string {
  const field = formatPath([...sel.origin("compatibility_date"), "compatibility_date"]);
  const date = sel.raw.compatibility_date;
  if (date === undefined) {
    const today = now.toISOString().slice(0, 10);
    problems.warn(field, `not set; using today's date (${today}). Pin it so behaviour does not change between runs, e.g. ${problems.example("compatibility_date", today)}`);
    return today;
  }
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const [year, month, day] = match === null ? [NaN, NaN, NaN] : match.slice(1).map(Number);
  const parsed = new Date(Date.UTC(year!, month! - 1, day!));
  const real = match !== null && parsed.getUTCFullYear() === year && parsed.getUTCMonth() === month! - 1 && parsed.getUTCDate() === day;
  if (!real) {
    const what = match === null ? "expected a date written YYYY-MM-DD" : "that day does not exist";
    problems.error(field, `found ${JSON.stringify(date)}, ${what}. Example: ${problems.example("compatibility_date", "2026-11-01")}`);
  }
  return date;
}

/** True when Node.js APIs are exposed: by flag, or by default from 2026-08-04 unless turned off. */
export function resolveNodejsCompat(flags: readonly string[], date: string, flagsAt: FieldPath, problems: Problems): boolean {
  const on = flags.includes("nodejs_compat") || flags.includes("nodejs_compat_v2");
  const off = flags.includes("no_nodejs_compat");
  if (on && off) {
    problems.error(formatPath([...flagsAt, "compatibility_flags"]), `"nodejs_compat" and "no_nodejs_compat" cannot both be set; keep one.`);
  }
  return on || (!off && date >= NODEJS_COMPAT_DEFAULT_DATE);
}

/**
 * Cloudflare crons have 5 fields; a leading seconds field (6 fields) is a Ledge extension. croner's
 * own parser then checks each field with the scheduler's options, so "61 * * * *" and a weekday of
 * 0 (Cloudflare's weekdays are 1 = Sunday to 7) are rejected here rather than misfiring.
 */
export function resolveCrons(sel: SelectedConfig, problems: Problems): string[] {
  const at = [...sel.origin("triggers"), "triggers", "crons"];
  const crons: string[] = [];
  (sel.raw.triggers?.crons ?? []).forEach((expression, i) => {
    const field = formatPath([...at, i]);
    const expr = expression.trim();
    const count = expr === "" ? 0 : expr.split(/\s+/).length;
    const example = `Example: ${problems.example(undefined, "*/5 * * * *")}`;
    if (count !== 5 && count !== 6) {
      problems.error(field, `cron ${JSON.stringify(expression)} has ${count} field${count === 1 ? "" : "s"}; expected 5 (minute hour day-of-month month day-of-week), or 6 with a leading seconds field (a Ledge extension). ${example}`);
      return;
    }
    try {
      new Cron(expr, { ...CLOUDFLARE_CRON_OPTIONS, paused: true }).stop();
    } catch (err) {
      let reason = errorMessage(err).replace(/^CronPattern:\s*/, "");
      // croner reports Quartz weekdays shifted down by one ("-1" for a 0), which reads as nonsense.
      if (/dayOfWeek/.test(reason)) reason = "the day of week must be 1-7 (1 = Sunday) or SUN-SAT, as on Cloudflare";
      problems.error(field, `cron ${JSON.stringify(expression)} is not a valid cron expression: ${reason}. ${example}`);
      return;
    }
    crons.push(expr);
  });
  return crons;
}

export function resolveRoutes(sel: SelectedConfig, problems: Problems): RouteConfig[] {
  const { route, routes } = sel.raw;
  if (route !== undefined && routes !== undefined) {
    problems.error(formatPath([...sel.origin("route"), "route"]), `"route" and "routes" cannot both be set; move the route into the "routes" list.`);
  }
  const toConfig = (r: RawRoute): RouteConfig => {
    if (typeof r === "string") return { pattern: r };
    const out: RouteConfig = { pattern: r.pattern };
    if (r.zone_name !== undefined) out.zoneName = r.zone_name;
    if (r.zone_id !== undefined) out.zoneId = r.zone_id;
    if (r.custom_domain !== undefined) out.customDomain = r.custom_domain;
    return out;
  };
  return [...(route === undefined ? [] : [route]), ...(routes ?? [])].map(toConfig);
}

export function resolveLimits(sel: SelectedConfig): LimitsConfig {
  const limits = sel.raw.limits ?? {};
  return { cpuMs: limits.cpu_ms ?? 30_000, subrequests: limits.subrequests ?? 10_000, memoryMb: limits.memory_mb ?? 128 };
}

/**
 * Fields wrangler users rely on whose absence of effect would surprise them. Everything else that is
 * accepted but unused (account_id, workers_dev, placement, observability, ...) stays quiet: it is
 * about deploying to Cloudflare and changes nothing locally.
 */
const NOT_APPLIED: Record<string, string> = {
  assets: "static assets are not served by Ledge yet; requests go to the Worker, and an assets binding throws on use.",
  build: "Ledge does not run the custom build command; run it before starting Ledge.",
  define: "not applied by Ledge's bundler yet.",
  alias: "not applied by Ledge's bundler yet.",
  site: "Workers Sites are not supported; use static assets instead.",
  containers: "containers are not supported by Ledge.",
  cloudchamber: "containers are not supported by Ledge.",
  tail_consumers: "tail events are not forwarded by Ledge.",
  streaming_tail_consumers: "tail events are not forwarded by Ledge.",
  node_compat: 'removed in wrangler 4; add compatibility_flags = ["nodejs_compat"] instead.',
  wasm_modules: "service-worker bindings are not supported; import the file from a module Worker instead.",
  text_blobs: "service-worker bindings are not supported; import the file from a module Worker instead.",
  data_blobs: "service-worker bindings are not supported; import the file from a module Worker instead.",
};

export function warnAboutIgnoredFields(sel: SelectedConfig, problems: Problems): void {
  const raw = sel.raw as Record<string, unknown>;
  for (const [field, note] of Object.entries(NOT_APPLIED)) {
    if (raw[field] !== undefined) problems.warn(formatPath([...sel.origin(field), field]), note);
  }
}
