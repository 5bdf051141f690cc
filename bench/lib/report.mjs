/**
 * The human-readable table. Each section returns rows of one shape:
 *   { scenario, value, ratio?, p50Ms?, p99Ms?, target?, met?, skipped? }
 * where `value` is already formatted (e.g. "21,034 req/s" or "96 ms") and `met` is true/false
 * against the target, or null when there is no target.
 */

const fmtInt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function reqs(rps) {
  return rps === null || rps === undefined ? "—" : `${fmtInt.format(rps)} req/s`;
}

export function ms(x, digits = 1) {
  return x === null || x === undefined || !Number.isFinite(x) ? "—" : `${x.toFixed(digits)} ms`;
}

function num(x, digits) {
  return x === null || x === undefined || !Number.isFinite(x) ? "" : x.toFixed(digits);
}

/** Renders the sections' rows as one aligned table with a header line per section. */
export function renderTable(sections) {
  const head = ["scenario", "result", "× node:http", "p50 ms", "p99 ms", "target", ""];
  const lines = [];
  const body = [];
  for (const s of sections) {
    body.push({ title: s.title });
    for (const r of s.rows) {
      if (r.skipped) {
        body.push({ cells: [`  ${r.scenario}`, `skipped: ${r.skipped}`], wide: true });
        continue;
      }
      body.push({
        cells: [
          `  ${r.scenario}`,
          r.value ?? "",
          num(r.ratio, 3),
          num(r.p50Ms, 2),
          num(r.p99Ms, 2),
          r.target ?? "",
          r.met === true ? "ok" : r.met === false ? "MISS" : "",
        ],
      });
      if (r.note) body.push({ note: r.note });
    }
  }
  const widths = head.map((h) => h.length);
  for (const b of body) {
    if (!b.cells || b.wide) continue;
    b.cells.forEach((c, i) => (widths[i] = Math.max(widths[i], String(c).length)));
  }
  const right = new Set([1, 2, 3, 4]);
  const row = (cells) => cells.map((c, i) => (right.has(i) ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join("  ").trimEnd();
  const total = widths.reduce((a, w) => a + w + 2, -2);
  lines.push(row(head), "─".repeat(total));
  for (const b of body) {
    if (b.title) lines.push(`${b.title}`);
    else if (b.note) lines.push(`      ${b.note}`);
    else if (b.wide) lines.push(`${b.cells[0].padEnd(widths[0])}  ${b.cells[1]}`);
    else lines.push(row(b.cells));
  }
  return lines.join("\n");
}
