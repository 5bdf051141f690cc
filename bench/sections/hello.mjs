/**
 * Hello world (issue #2): Ledge against the plain `node:http` yardstick, alternated over the rounds,
 * medians reported. Also Ledge with its access log on (written to /dev/null), and Ledge's memory
 * after the load. Every other section divides by the yardstick measured here.
 */
import { loadOnce, probe, summarise } from "../lib/measure.mjs";
import { HELLO_WORKER, writeProject, wranglerToml } from "../lib/project.mjs";
import { memoryMb, startLedge, startYardstick } from "../lib/servers.mjs";
import { round } from "../lib/stats.mjs";
import { runWrk } from "../lib/wrk.mjs";
import { reqs } from "../lib/report.mjs";

export const TARGETS = { ratio: 0.36, p99Ms: 20, rssMb: 150 };

const isHello = (body) => body === "Hello World!";

export default {
  key: "hello",
  title: "Hello world (issue #2)",
  async run(ctx) {
    const dir = writeProject("hello", wranglerToml("hello"), { "src/index.js": HELLO_WORKER });
    ctx.projects.hello = dir;
    const yard = await startYardstick();
    const ledge = await startLedge(dir);
    const figures = {};
    try {
      await probe(yard.url + "/", { expectBody: isHello });
      await probe(ledge.url + "/", { expectBody: isHello });
      const memBefore = memoryMb(ledge.child.pid);
      if (ctx.opts.warmupS > 0) {
        await runWrk({ url: yard.url + "/", durationS: ctx.opts.warmupS });
        await runWrk({ url: ledge.url + "/", durationS: ctx.opts.warmupS });
      }
      const yardRuns = [];
      const ledgeRuns = [];
      for (let i = 0; i < ctx.opts.rounds; i++) {
        ctx.progress(`round ${i + 1}/${ctx.opts.rounds}: node:http`);
        yardRuns.push(await loadOnce(ctx, yard, { url: yard.url + "/" }));
        ctx.progress(`round ${i + 1}/${ctx.opts.rounds}: ledge`);
        ledgeRuns.push(await loadOnce(ctx, ledge, { url: ledge.url + "/" }));
      }
      const memAfter = memoryMb(ledge.child.pid);
      figures.yardstick = { ...summarise(yardRuns), rssMb: round(memoryMb(yard.child.pid).rss, 1) };
      figures.ledge = {
        ...summarise(ledgeRuns),
        rssBeforeMb: round(memBefore.rss, 1),
        rssAfterMb: round(memAfter.rss, 1),
        peakRssMb: round(memAfter.hwm, 1),
        threads: memAfter.threads,
      };
      ctx.yardstick = figures.yardstick;
    } finally {
      await Promise.all([yard.stop(), ledge.stop()]);
    }
    figures.ratio = round(figures.ledge.rps / figures.yardstick.rps, 3);

    // The access log is on by default; its lines go to stdout, here /dev/null, so the figure is the
    // cost of formatting and writing them, not of a terminal.
    ctx.progress("ledge with the access log on");
    const logged = await startLedge(dir, { accessLog: true });
    try {
      if (ctx.opts.warmupS > 0) await runWrk({ url: logged.url + "/", durationS: ctx.opts.warmupS });
      figures.ledgeAccessLog = summarise([await loadOnce(ctx, logged, { url: logged.url + "/" })]);
    } finally {
      await logged.stop();
    }
    figures.ledgeAccessLog.ratio = round(figures.ledgeAccessLog.rps / figures.yardstick.rps, 3);

    const y = figures.yardstick;
    const l = figures.ledge;
    const a = figures.ledgeAccessLog;
    return {
      figures,
      rows: [
        { scenario: "node:http yardstick", value: reqs(y.rps), ratio: 1, p50Ms: y.p50Ms, p99Ms: y.p99Ms, note: cpu(y) },
        ledgeRow("ledge serve --no-access-log", l, figures.ratio),
        ledgeRow("ledge serve (access log → /dev/null)", a, a.ratio),
        {
          scenario: "ledge RSS after the load (incl. isolates)",
          value: `${l.rssAfterMb} MB`,
          target: `< ${TARGETS.rssMb} MB`,
          met: l.rssAfterMb < TARGETS.rssMb,
          note: `before the load ${l.rssBeforeMb} MB, peak ${l.peakRssMb} MB, ${l.threads} threads`,
        },
      ],
    };
  },
};

/** A table row for one Ledge hello-world measurement, judged against the targets. */
function ledgeRow(scenario, m, ratio) {
  return {
    scenario,
    value: reqs(m.rps),
    ratio,
    p50Ms: m.p50Ms,
    p99Ms: m.p99Ms,
    target: `≥ ${TARGETS.ratio}, p99 < ${TARGETS.p99Ms} ms`,
    met: ratio >= TARGETS.ratio && m.p99Ms < TARGETS.p99Ms,
    note: cpu(m),
  };
}

function cpu(f) {
  return f.cpuUsPerRequest !== null ? `server CPU ${f.cpuUsPerRequest} µs/request, ${f.coresUsed} cores busy` : undefined;
}
