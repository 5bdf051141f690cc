/**
 * What every throughput scenario shares: check the route answers what it should, warm it up, load
 * it for `rounds` runs of `durationS`, and keep the medians. A scenario the runtime cannot serve
 * yet becomes `{ skipped: reason }` instead of an exception, so one gap never hides the others.
 */
import { firstLine, request } from "./net.mjs";
import { median, round } from "./stats.mjs";
import { runWrk } from "./wrk.mjs";
import { cpuSeconds } from "./servers.mjs";

/** The share of non-2xx answers above which a run counts as failed rather than slow. */
const MAX_ERROR_SHARE = 0.01;

export class Skip extends Error {}

/**
 * Probes `url` once (twice with `probeTwice`, for routes whose first answer differs) and checks the
 * answer; throws Skip with a readable reason when the runtime does not serve it.
 */
export async function probe(url, { expectBody, probeTwice = false } = {}) {
  let r;
  try {
    if (probeTwice) await request(url, { timeoutMs: 10_000 });
    r = await request(url, { timeoutMs: 10_000 });
  } catch (err) {
    throw new Skip(`request to ${new URL(url).pathname} failed: ${err.message}`);
  }
  if (r.status !== 200) throw new Skip(`${new URL(url).pathname} answered HTTP ${r.status}: ${firstLine(r.body)}`);
  if (expectBody && !expectBody(r.body)) throw new Skip(`${new URL(url).pathname} answered an unexpected body: ${firstLine(r.body)}`);
  return r;
}

/**
 * Loads one route of a running server and returns medians over the rounds.
 * @param {object} ctx        the run context (options: durationS, rounds, warmupS)
 * @param {object} server     from startLedge/startYardstick
 * @param {object} s
 * @param {string} s.path     path to load (or the prefix with `randomCount`)
 * @param {number} [s.randomCount] spread requests over path0..path<count-1>
 */
export async function loadScenario(ctx, server, { path, randomCount }) {
  const url = server.url + (randomCount ? "/" : path);
  const randomPaths = randomCount ? { prefix: path, count: randomCount } : undefined;
  if (ctx.opts.warmupS > 0) await runWrk({ url, durationS: ctx.opts.warmupS, randomPaths });
  const runs = [];
  for (let i = 0; i < ctx.opts.rounds; i++) runs.push(await loadOnce(ctx, server, { url, randomPaths }));
  return summarise(runs);
}

/** One wrk run with the server's CPU time around it; throws Skip when most answers were errors. */
export async function loadOnce(ctx, server, { url, randomPaths }) {
  const cpu0 = cpuSeconds(server.child.pid);
  const r = await runWrk({ url, durationS: ctx.opts.durationS, randomPaths });
  const cpu1 = cpuSeconds(server.child.pid);
  if (!server.alive) throw new Skip(`the server exited during the load: ${firstLine(server.output().trim().split("\n").slice(-1)[0])}`);
  if (r.requests === 0) throw new Skip(`no request completed (socket errors: ${r.socketErrors})`);
  if (r.non2xx > r.requests * MAX_ERROR_SHARE) {
    throw new Skip(`${r.non2xx} of ${r.requests} answers were HTTP errors`);
  }
  const cpu = cpu1 - cpu0;
  return { ...r, cpuUsPerRequest: r.requests > 0 ? (cpu * 1e6) / r.requests : null, coresUsed: cpu / ctx.opts.durationS };
}

/** Medians of the runs, rounded for the report; the runs themselves are kept for the JSON. */
export function summarise(runs) {
  const m = (k) => median(runs.map((r) => r[k]));
  return {
    rps: round(m("rps"), 0),
    p50Ms: round(m("p50Ms"), 2),
    p99Ms: round(m("p99Ms"), 2),
    cpuUsPerRequest: round(m("cpuUsPerRequest"), 1),
    coresUsed: round(m("coresUsed"), 2),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    socketErrors: runs.reduce((a, r) => a + r.socketErrors, 0),
    runs: runs.map((r) => ({ rps: round(r.rps, 0), p50Ms: round(r.p50Ms, 2), p99Ms: round(r.p99Ms, 2), requests: r.requests })),
  };
}

/**
 * Runs `fn`; a failure becomes `{ skipped: reason }` (the first line of the error), so the report
 * shows what the runtime could not do and the other scenarios still run.
 */
export async function orSkip(fn) {
  try {
    return await fn();
  } catch (err) {
    return { skipped: String(err?.message ?? err).split("\n")[0] };
  }
}
