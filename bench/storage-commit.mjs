#!/usr/bin/env node
// Micro-benchmark of the Durable Object storage commit path (src/storage): durable writes per
// second with 1 and 50 concurrent writers on one object, at durability "full" (fdatasync of the WAL
// before the output gate opens) and "normal" (no fsync). Each writer loops: put(), then await
// whenDurable(), like a request handler whose response waits for the output gate.
//
// "lockstep" writers all write in the same turn, so their writes coalesce into one COMMIT.
// "staggered" writers wait 0-3 extra turns first, so their COMMITs land in different turns; the
// ones that happen while an fdatasync is in flight share the next one (group commit in WalSyncer).
//
// Usage: node bench/storage-commit.mjs [--seconds 2] [--dir /path/on/the/disk/to/test]
// Runs against dist/ when built (npm run build), else needs `node --import tsx bench/storage-commit.mjs`.
// Prints one JSON document; no assertions.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { setImmediate } from "node:timers";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: { seconds: { type: "string", default: "2" }, dir: { type: "string" } },
});
const seconds = Number(args.seconds);
const baseDir = mkdtempSync(join(args.dir ?? os.tmpdir(), "ledge-bench-storage-"));

async function loadStorage() {
  const dist = new URL("../dist/storage/index.js", import.meta.url);
  if (existsSync(fileURLToPath(dist))) return import(dist.href);
  try {
    return await import(new URL("../src/storage/index.ts", import.meta.url).href);
  } catch (err) {
    throw new Error(`build first (npm run build) or run with: node --import tsx ${process.argv[1]}`, { cause: err });
  }
}

const { openObjectStorage } = await loadStorage();
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

let runs = 0;
async function run({ durability, writers, pattern }) {
  const storage = openObjectStorage({
    dbPath: join(baseDir, `run-${++runs}`, "db.sqlite"),
    storageKind: "sqlite",
    durability,
    deleteAllDeletesAlarm: false,
  });
  const value = { text: "x".repeat(100), n: 0 };
  let acknowledged = 0;
  let stop = false;
  const latencies = [];
  const startStats = storage.stats;
  const started = performance.now();
  const timer = setTimeout(() => (stop = true), seconds * 1000);
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        if (pattern === "staggered") for (let k = 0; k < w % 4; k++) await nextTurn();
        const t0 = performance.now();
        value.n = i;
        await storage.put(`writer-${w}-${i % 100}`, value);
        await storage.whenDurable();
        latencies.push(performance.now() - t0);
        acknowledged++;
      }
    }),
  );
  clearTimeout(timer);
  const elapsed = (performance.now() - started) / 1000;
  const stats = storage.stats;
  storage.close();
  const commits = stats.commits - startStats.commits;
  const fsyncs = stats.fsyncs - startStats.fsyncs;
  latencies.sort((a, b) => a - b);
  const pct = (p) => round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0, 3);
  return {
    durability,
    writers,
    pattern,
    seconds: round(elapsed, 2),
    durableWritesPerSec: Math.round(acknowledged / elapsed),
    sqliteCommitsPerSec: Math.round(commits / elapsed),
    fsyncsPerSec: Math.round(fsyncs / elapsed),
    writesPerCommit: round(acknowledged / Math.max(commits, 1), 1),
    commitsPerFsync: fsyncs > 0 ? round(commits / fsyncs, 2) : null,
    checkpoints: stats.checkpoints - startStats.checkpoints,
    latencyMs: { p50: pct(0.5), p99: pct(0.99) },
  };
}

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const scenarios = [
  { durability: "full", writers: 1, pattern: "lockstep" },
  { durability: "full", writers: 50, pattern: "lockstep" },
  { durability: "full", writers: 50, pattern: "staggered" },
  { durability: "normal", writers: 1, pattern: "lockstep" },
  { durability: "normal", writers: 50, pattern: "lockstep" },
];
const results = [];
try {
  for (const scenario of scenarios) results.push(await run(scenario));
} finally {
  rmSync(baseDir, { recursive: true, force: true });
}
const find = (d, w, p = "lockstep") => results.find((r) => r.durability === d && r.writers === w && r.pattern === p);
console.log(
  JSON.stringify(
    {
      benchmark: "storage-commit",
      node: process.version,
      cpus: os.cpus().length,
      dir: args.dir ?? os.tmpdir(),
      results,
      ratios: {
        fullDurableWrites50vs1: round(find("full", 50).durableWritesPerSec / find("full", 1).durableWritesPerSec, 1),
        fullStaggeredDurableWrites50vs1: round(
          find("full", 50, "staggered").durableWritesPerSec / find("full", 1).durableWritesPerSec,
          1,
        ),
        normalVsFull1Writer: round(find("normal", 1).durableWritesPerSec / find("full", 1).durableWritesPerSec, 1),
      },
    },
    null,
    2,
  ),
);
