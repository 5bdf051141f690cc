/**
 * Summarises a V8 .cpuprofile (what `node --cpu-prof` writes): self time per function and per
 * source file, as milliseconds and as a share of the profile's wall time (idle included), so
 * "(idle)" shows how much of the thread was free.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * @param {string} path  a .cpuprofile file
 * @param {string} root  paths under it are shown relative to it
 */
export function summariseProfile(path, root) {
  const prof = JSON.parse(readFileSync(path, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  // samples[i] was taken timeDeltas[i] after the previous one; that interval is charged to the
  // sampled node, which is how DevTools computes self time too.
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, prof.timeDeltas[i] ?? 0));
  }
  const totalUs = prof.endTime - prof.startTime;
  const fns = new Map();
  const files = new Map();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const file = shortUrl(url, root);
    const name = functionName || (file ? "(anonymous)" : "");
    const key = file ? `${name} ${file}:${lineNumber + 1}` : name || "(unknown)";
    fns.set(key, (fns.get(key) ?? 0) + us);
    const fileKey = file || name || "(unknown)";
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
  }
  const rank = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, percent: Math.round((us / totalUs) * 1000) / 10 }));
  const idleUs = fns.get("(idle)") ?? 0;
  return {
    wallMs: Math.round(totalUs / 1000),
    busyPercent: Math.round(((totalUs - idleUs) / totalUs) * 1000) / 10,
    functions: rank(fns),
    files: rank(files),
  };
}

function shortUrl(url, root) {
  if (!url) return "";
  if (url.startsWith("node:")) return url;
  let p = url;
  if (url.startsWith("file://")) {
    try {
      p = fileURLToPath(url);
    } catch {
      return url;
    }
  }
  if (p.startsWith(root)) return relative(root, p);
  return p;
}
