/**
 * Cron triggers: fires an app's `scheduled()` handler for each expression in `triggers.crons`, in
 * UTC. Five-field expressions as on Cloudflare; six fields (a leading seconds field) are a Ledge
 * extension, handy for tests and sub-minute jobs. A failing run is logged and later runs go on.
 */
import type { Cron, CronOptions } from "croner";

/**
 * How croner must read an expression to agree with Cloudflare, for both validation (src/config) and
 * scheduling. Cloudflare numbers weekdays the Quartz way, 1 = Sunday to 7 = Saturday (so `6L` is
 * the last Friday) and refuses 0; croner's default is 0/7 = Sunday, 1 = Monday.
 */
export const CLOUDFLARE_CRON_OPTIONS = { timezone: "UTC", alternativeWeekdays: true } as const satisfies CronOptions;

export interface CronTarget {
  app: string;
  crons: string[];
  run(cron: string, scheduledTime: number): Promise<{ ok: boolean; error?: { message: string } }>;
}

export class CronScheduler {
  readonly #jobs = new Map<string, Cron[]>();
  readonly #log: (line: string) => void;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  /** (Re)schedules an app's triggers; replaces whatever the app had. */
  set(target: CronTarget): void {
    this.remove(target.app);
    // croner is loaded only by apps that have triggers, off the start-up path of those that don't.
    if (target.crons.length === 0) return;
    const generation = this.#bump(target.app);
    void import("croner").then(({ Cron }) => {
      if (generation === this.#generations.get(target.app)) this.#schedule(target, Cron);
    });
  }

  /** Per app, so a schedule still loading croner is dropped if the app was re-set or removed. */
  readonly #generations = new Map<string, number>();
  #bump(app: string): number {
    const g = (this.#generations.get(app) ?? 0) + 1;
    this.#generations.set(app, g);
    return g;
  }

  #schedule(target: CronTarget, Cron: typeof import("croner").Cron): void {
    const jobs: Cron[] = [];
    for (const expr of target.crons) {
      const job = new Cron(expr, { ...CLOUDFLARE_CRON_OPTIONS, protect: true }, async (self: Cron) => {
        const scheduledTime = (self.currentRun() ?? new Date()).getTime();
        const r = await target.run(expr, scheduledTime);
        if (!r.ok) this.#log(`[${target.app}] scheduled() for "${expr}" failed: ${r.error?.message ?? "unknown error"}`);
      });
      jobs.push(job);
    }
    this.#jobs.set(target.app, jobs);
  }

  remove(app: string): void {
    this.#bump(app);
    for (const j of this.#jobs.get(app) ?? []) j.stop();
    this.#jobs.delete(app);
  }

  stop(): void {
    for (const app of [...this.#jobs.keys()]) this.remove(app);
  }
}
