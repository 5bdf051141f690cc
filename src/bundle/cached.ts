/**
 * Start-up fast path for `ledge serve`: the bundle of the last start, reused when every file it was
 * built from is unchanged (same size and mtime) and the config is the same. A miss runs esbuild.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AppConfig } from "../config/types.js";
import type { BundleResult } from "./index.js";
import { BUNDLE_FORMAT } from "../shared/bundle-format.js";

interface Meta {
  key: string;
  inputs: [path: string, size: number, mtimeMs: number][];
}

const CACHE_VERSION = "1";

function configKey(config: AppConfig): string {
  // Var values (secrets among them) do not shape the bundle, and a hash of a secret must not be
  // left on disk: only their names count.
  const shape = { ...config, vars: Object.keys(config.vars) };
  return createHash("sha256").update(CACHE_VERSION).update(BUNDLE_FORMAT).update(JSON.stringify(shape)).digest("hex");
}

function stamp(path: string): [number, number] | null {
  try {
    const s = statSync(path);
    return [s.size, s.mtimeMs];
  } catch {
    return null;
  }
}

export async function bundleCached(config: AppConfig): Promise<BundleResult & { cached: boolean }> {
  const dir = join(config.rootDir, ".ledge", "build");
  const key = configKey(config);
  try {
    const meta = JSON.parse(readFileSync(join(dir, "bundle.meta.json"), "utf8")) as Meta;
    const fresh =
      meta.key === key &&
      meta.inputs.every(([p, size, mtime]) => {
        const s = stamp(p);
        return s !== null && s[0] === size && s[1] === mtime;
      });
    if (fresh) {
      const code = readFileSync(join(dir, "bundle.js"), "utf8");
      return { code, inputs: meta.inputs.map(([p]) => p), buildMs: 0, cached: true };
    }
  } catch {
    // No usable cache: build.
  }
  const { bundle } = await import("./index.js");
  const built = await bundle(config);
  try {
    mkdirSync(dir, { recursive: true });
    const inputs = built.inputs.map((p) => {
      const s = stamp(p);
      return s ? ([p, s[0], s[1]] as Meta["inputs"][number]) : null;
    });
    if (inputs.every((i) => i !== null)) {
      writeFileSync(join(dir, `bundle.js.${process.pid}.tmp`), built.code);
      renameSync(join(dir, `bundle.js.${process.pid}.tmp`), join(dir, "bundle.js"));
      writeFileSync(join(dir, "bundle.meta.json"), JSON.stringify({ key, inputs } satisfies Meta));
    }
  } catch {
    // A read-only project folder only loses the fast path.
  }
  return { ...built, cached: false };
}
