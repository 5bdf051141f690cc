/**
 * Opens a better-sqlite3 database. The module is required on first use rather than imported, so
 * processes and threads that never open a database (or not yet) do not pay for loading it.
 */
import { createRequire } from "node:module";
import type Database from "better-sqlite3";

export type SqliteDatabase = Database.Database;

const require = createRequire(import.meta.url);

export function openSqlite(path: string, options?: Database.Options): SqliteDatabase {
  const Ctor = require("better-sqlite3") as typeof Database;
  return new Ctor(path, options);
}
