/**
 * Opens a better-sqlite3 database: the one place Ledge does, in the host and in app isolates alike.
 * The module is required on first use rather than imported, so processes and threads that never
 * open a database (or not yet) do not pay for loading it.
 *
 * The native addon is loaded here, by path, and handed to the constructor, rather than found by the
 * `bindings` package: `bindings` reads the global `process`, which inside an app isolate is Workers'
 * `process` (src/runtime/isolate/node/process.ts), not the host's.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type Database from "better-sqlite3";

export type SqliteDatabase = Database.Database;

const require = createRequire(import.meta.url);

let addon: object | undefined;
/** The absolute path of better-sqlite3's native addon (the isolate's `process.dlopen` guard allows only it). */
export const SQLITE_ADDON = join(dirname(require.resolve("better-sqlite3/package.json")), "build", "Release", "better_sqlite3.node");

export function openSqlite(path: string, options?: Database.Options): SqliteDatabase {
  const Ctor = require("better-sqlite3") as typeof Database;
  addon ??= require(SQLITE_ADDON) as object;
  return new Ctor(path, { ...options, nativeBinding: addon as never });
}
