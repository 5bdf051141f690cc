/**
 * Which Chromium the browser tests drive, and how it is started. The first found of:
 *
 * 1. `LEDGE_CHROMIUM`: a path to a Chromium or Chrome binary, for a browser of your own.
 * 2. `/usr/bin/chromium`: Debian's package, where it is installed.
 * 3. The headless Chromium shipped inside the npm package `@sparticuz/chromium` (a devDependency),
 *    so that `npm ci && npm test` needs no browser on the machine. It ships brotli-compressed and
 *    is unpacked once per package version into `$TMPDIR/ledge-chromium-<version>` (~200 MB, ~3 s).
 *
 * The npm build links against three Debian libraries that a minimal system may lack (libnss3,
 * libnspr4, libexpat1); `scripts/test-prereqs.mjs` installs them before the browser tests run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { REPO } from "./ledge.js";

export const DEBIAN_CHROMIUM = "/usr/bin/chromium";

export interface Chromium {
  executablePath: string;
  source: "LEDGE_CHROMIUM" | "debian" | "npm";
  /** Extra environment for the browser process (the npm build's own fonts). */
  env: Record<string, string>;
}

/**
 * Flags for any of the three: headless, and no connections of its own (on a machine without a
 * network, Chromium's background requests fail at every start and slow it down).
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function findChromium(): Chromium {
  const fromEnv = process.env.LEDGE_CHROMIUM;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`LEDGE_CHROMIUM=${fromEnv}: no such file`);
    return { executablePath: fromEnv, source: "LEDGE_CHROMIUM", env: {} };
  }
  if (existsSync(DEBIAN_CHROMIUM)) return { executablePath: DEBIAN_CHROMIUM, source: "debian", env: {} };
  const dir = unpackNpmChromium();
  // The package's own fonts.conf names Lambda's folders (/tmp/fonts, /opt/fonts); this one names
  // the unpacked copy, so pages render with the same fonts whatever the machine has installed.
  return { executablePath: join(dir, "chromium"), source: "npm", env: { FONTCONFIG_FILE: join(dir, "ledge-fonts.conf") } };
}

/** Unpacks `@sparticuz/chromium` once per version and returns the folder holding `chromium`. */
function unpackNpmChromium(): string {
  const require = createRequire(join(REPO, "package.json"));
  const entry = require.resolve("@sparticuz/chromium"); // <pkg>/build/cjs/index.cjs
  const pkgDir = dirname(dirname(dirname(entry)));
  const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { version: string };
  const dir = join(tmpdir(), `ledge-chromium-${version}`);
  if (existsSync(join(dir, "ledge-fonts.conf"))) return dir;

  // The package unpacks into os.tmpdir() and reuses whatever `chromium` it finds there, so it runs
  // in a child process whose TMPDIR is a fresh folder, renamed into place only once complete: a
  // run that was killed half-way, or another checkout unpacking at the same time, never leaves a
  // truncated binary where the next run would pick it up.
  const partial = mkdtempSync(`${dir}.partial-`);
  try {
    const r = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", "const m = await import(process.argv[1]); process.stdout.write(await m.default.executablePath());", entry],
      { env: { ...process.env, TMPDIR: partial }, encoding: "utf8", timeout: 120_000 },
    );
    if (r.status !== 0 || r.stdout !== join(partial, "chromium")) {
      throw new Error(`unpacking @sparticuz/chromium ${version} failed (exit ${r.status}): ${r.stderr || r.stdout}`);
    }
    writeFileSync(
      join(partial, "ledge-fonts.conf"),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
        `  <dir>${join(dir, "fonts", "fonts")}</dir>\n  <cachedir>${join(dir, "fonts-cache")}</cachedir>\n</fontconfig>\n`,
    );
    try {
      renameSync(partial, dir);
    } catch (e) {
      // Another process finished first; its copy is as good as ours.
      if (!existsSync(join(dir, "ledge-fonts.conf"))) throw e;
    }
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return dir;
}
