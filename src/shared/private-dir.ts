/**
 * State folders are private to the user that runs Ledge: the CLI sets its umask to 077 at start, so
 * everything it creates is 0700 (folders) or 0600 (files, SQLite's -wal and -shm included, which
 * take the database file's mode), and an existing persist folder is narrowed to 0700 here.
 */
import { chmodSync, mkdirSync, statSync } from "node:fs";

/**
 * Creates `dir` (mode 0700) or narrows an existing one to 0700. Returns a warning to print when the
 * folder is not ours to narrow: not owned by this user, or a shared sticky folder such as /tmp.
 * Example: `const warning = makePrivateDir("/srv/app/.ledge/state"); if (warning) log(warning);`
 */
export function makePrivateDir(dir: string): string | undefined {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if ((st.mode & 0o077) === 0) return undefined;
  const ours = typeof process.getuid !== "function" || st.uid === process.getuid();
  if (!ours || (st.mode & 0o1000) !== 0) {
    return `⚠ ${dir} can be read by other users (mode ${(st.mode & 0o7777).toString(8)}); Ledge's files in it are 0600, but keep state in a folder of your own (--persist-to)`;
  }
  chmodSync(dir, 0o700);
  return undefined;
}
