/** Helpers shared by the files of `src/secrets/`; other folders import `./index.js` only. */
import { readFileSync } from "node:fs";

/** The file's text, or null when it does not exist (other errors, such as EACCES, are thrown). */
export function readTextIfExists(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}
