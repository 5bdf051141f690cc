/**
 * Machine prerequisites of the test suite that npm cannot bring: Debian packages, found where they
 * are or installed with apt-get before `scripts/test.mjs` starts the test files that need them.
 * A file needs what it imports: `test/helpers/nats.ts` needs `nats-server`; `test/helpers/chromium.ts`,
 * when it will use the npm-shipped Chromium, needs that build's shared libraries.
 *
 * Installing needs root (as on CI and the project's machines); elsewhere this prints the command
 * to run and fails, rather than letting the tests fail later with a less clear error.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/** Where Debian's nats-server package puts the binary; /usr/sbin is not on every user's PATH. */
export const DEBIAN_NATS_SERVER = "/usr/sbin/nats-server";

/** `LEDGE_NATS_SERVER`, else `nats-server` on PATH, else Debian's path; undefined when none exists. */
export function findNatsServer(env = process.env) {
  if (env.LEDGE_NATS_SERVER) return env.LEDGE_NATS_SERVER;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && isExecutable(join(dir, "nats-server"))) return join(dir, "nats-server");
  }
  return isExecutable(DEBIAN_NATS_SERVER) ? DEBIAN_NATS_SERVER : undefined;
}

/**
 * The libraries that @sparticuz/chromium 143's binary links against beyond libc, libm, libdl,
 * libpthread and libgcc_s (`readelf -d chromium | grep NEEDED` on the unpacked binary), and the
 * Debian package of each. Re-check this list when the package's version changes.
 */
const NPM_CHROMIUM_LIBS = {
  "libnspr4.so": "libnspr4",
  "libnss3.so": "libnss3",
  "libnssutil3.so": "libnss3",
  "libexpat.so.1": "libexpat1",
};

/** True when test/helpers/chromium.ts will not find LEDGE_CHROMIUM or Debian's Chromium. */
function usesNpmChromium(env = process.env) {
  return !env.LEDGE_CHROMIUM && !existsSync("/usr/bin/chromium");
}

/** Debian packages whose libraries the npm Chromium needs and the dynamic linker cannot find. */
function missingChromiumLibPackages() {
  const r = spawnSync("/sbin/ldconfig", ["-p"], { encoding: "utf8" });
  // Without ldconfig's cache there is nothing to check against; the browser's start says what
  // is missing.
  if (r.status !== 0) return [];
  const known = new Set(r.stdout.split("\n").map((line) => line.trim().split(" ")[0]));
  return [...new Set(Object.entries(NPM_CHROMIUM_LIBS).filter(([lib]) => !known.has(lib)).map(([, pkg]) => pkg))];
}

/**
 * Finds or installs what `files` (paths relative to the repo root) need. Returns normally when
 * everything is there; prints why and exits the process with status 1 when it cannot be had.
 */
export function ensureTestPrereqs(root, files) {
  const importing = (helper) => files.filter((f) => readFileSync(join(root, f), "utf8").includes(`helpers/${helper}.js"`));
  const needs = []; // { pkg, files }

  const natsUsers = importing("nats");
  if (natsUsers.length > 0) {
    if (process.env.LEDGE_NATS_SERVER && !isExecutable(process.env.LEDGE_NATS_SERVER)) {
      fail(`LEDGE_NATS_SERVER=${process.env.LEDGE_NATS_SERVER} is not an executable file.`);
    }
    if (!findNatsServer()) needs.push({ pkg: "nats-server", files: natsUsers });
  }
  const browserUsers = importing("chromium");
  if (browserUsers.length > 0 && usesNpmChromium()) {
    for (const pkg of missingChromiumLibPackages()) needs.push({ pkg, files: browserUsers });
  }
  if (needs.length === 0) return;

  const pkgs = [...new Set(needs.map((n) => n.pkg))];
  const why = needs.map((n) => `  ${n.pkg}: needed by ${n.files.join(", ")}`).join("\n");
  if (process.getuid?.() !== 0) {
    fail(`Missing Debian packages:\n${why}\nInstall them with:\n  sudo apt-get install -y ${pkgs.join(" ")}`);
  }
  process.stderr.write(`Installing with apt-get: ${pkgs.join(" ")}\n${why}\n`);
  const started = Date.now();
  // Wait for a dpkg lock held by another apt run (bounded) instead of failing at once.
  const lockWait = ["-o", "DPkg::Lock::Timeout=120"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [
    [...lockWait, "update", "-qq"],
    [...lockWait, "install", "-y", "-qq", "--no-install-recommends", ...pkgs],
  ]) {
    // dpkg's progress lines would bury the test output; they are shown only when apt-get fails.
    const r = spawnSync("apt-get", args, { stdio: ["ignore", "pipe", "pipe"], env, encoding: "utf8", maxBuffer: 64 << 20, timeout: 600_000 });
    if (r.status !== 0) {
      process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}`);
      fail(`apt-get ${args.filter((a) => !lockWait.includes(a)).join(" ")} failed (${r.error?.message ?? `exit ${r.status}`}); the files above cannot run without ${pkgs.join(" ")}.`);
    }
  }
  if (natsUsers.length > 0 && !findNatsServer()) fail(`apt-get installed nats-server, but it is neither on PATH nor at ${DEBIAN_NATS_SERVER}.`);
  process.stderr.write(`Installed ${pkgs.join(" ")} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function fail(message) {
  process.stderr.write(`npm test: ${message}\n`);
  process.exit(1);
}
