/** Opens a better-sqlite3 database (one place to set connection-wide options later). */
import Database from "better-sqlite3";

export type SqliteDatabase = Database.Database;

export function openSqlite(path: string, options?: Database.Options): SqliteDatabase {
  return new Database(path, options);
}
