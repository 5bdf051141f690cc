/**
 * Worker projects kept under test/fixtures/apps/<name>, copied into a temporary folder before a
 * test serves them, so state (`.ledge/`) and edits never touch the repository.
 */
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, removeDir, startLedge, type RunningLedge } from "./ledge.js";

export function copyFixtureApp(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ledge-${name}-`));
  cpSync(join(REPO, "test", "fixtures", "apps", name), dir, { recursive: true });
  return dir;
}

/** Serves a copy of fixture app `name`; `stop()` also removes the copy. */
export async function serveFixtureApp(
  name: string,
  opts: Parameters<typeof startLedge>[1] = {},
): Promise<RunningLedge & { dir: string }> {
  const dir = copyFixtureApp(name);
  try {
    const ledge = await startLedge(dir, opts);
    return {
      ...ledge,
      dir,
      async stop() {
        const code = await ledge.stop();
        removeDir(dir);
        return code;
      },
    };
  } catch (err) {
    removeDir(dir);
    throw err;
  }
}
