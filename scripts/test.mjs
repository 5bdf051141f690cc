#!/usr/bin/env node
// Runs the whole suite with Node's own test runner. Test files are TypeScript (loaded through tsx);
// integration tests start the built CLI from dist/, so `npm test` builds first (the `pretest` script).
// Debian packages that some files need (nats-server, the npm Chromium's libraries) are installed
// first where missing (scripts/test-prereqs.mjs).
// Usage: npm test [-- <substring filter of file paths>...]
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";
import { ensureTestPrereqs } from "./test-prereqs.mjs";

const root = new URL("..", import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const files = walk(join(root, "test"))
  .map((p) => relative(root, p))
  .filter((p) => filters.length === 0 || filters.some((f) => p.includes(f)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(" ")}`);
  process.exit(1);
}
ensureTestPrereqs(root, files);
const concurrency = process.env.LEDGE_TEST_CONCURRENCY ?? "2";
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", ...files],
  { cwd: root, stdio: "inherit" },
);
process.exit(r.status ?? 1);
