/**
 * Paths built from a project's config (class names, namespace ids, app names, `main`) must never
 * leave the folder they belong to, whatever the config says: a `deleted_classes` entry of
 * `x/../../../home` would otherwise make start-up delete a folder outside the state directory.
 * The config validator refuses such names with a clear message; these checks are the last line,
 * at the place each path is built, for configs that reach the runtime some other way (a start-up
 * cache file, a caller that skips validation).
 *
 * The checks are lexical: they do not follow symbolic links.
 */
import path from "node:path";
import process from "node:process";
import { LedgeError } from "./errors.js";

/** True when `target` (absolute, or relative to the working directory) is `root` itself or below it. */
export function isInside(root: string, target: string): boolean {
  const relative = path.relative(path.resolve(root), path.resolve(target));
  return relative === "" || (!relative.startsWith(`..${path.sep}`) && relative !== ".." && !path.isAbsolute(relative));
}

/**
 * Joins `parts` onto `root` and returns the absolute result, which must lie strictly below `root`
 * (never `root` itself: removing "the namespace folder" must not remove every namespace).
 * Throws a user error (code `LEDGE_PATH_OUTSIDE_ROOT`) otherwise, or when a part contains NUL.
 * Example: `insideRoot("/srv/app/.ledge/state/do", "shop-Cart")` → `/srv/app/.ledge/state/do/shop-Cart`.
 */
export function insideRoot(root: string, ...parts: string[]): string {
  const base = path.resolve(root);
  const target = path.resolve(base, ...parts);
  if (parts.some((p) => p.includes("\0")) || target === base || !isInside(base, target)) {
    const shown = JSON.stringify(parts.join("/")).slice(0, 120);
    throw new LedgeError("LEDGE_PATH_OUTSIDE_ROOT", `refusing to use the path ${shown}: it must stay inside ${base}`);
  }
  return target;
}

/**
 * Names a file the way users read it: relative to the working directory when it sits below it
 * (shorter, and what the user typed), absolute otherwise, so the name always points at the file
 * whatever folder `ledge` was started from.
 */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== "" && isInside(process.cwd(), file) ? relative : path.resolve(file);
}
