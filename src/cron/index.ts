/**
 * Cron triggers: fires an app's `scheduled()` handler for each expression in `triggers.crons`, in
 * UTC. Five-field expressions as on Cloudflare; six fields (a leading seconds field) are a Ledge
 * extension, handy for tests and sub-minute jobs. A failing run is logged and later runs go on.
 */
import { Cron } from "croner";

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
    const jobs: Cron[] = [];
    for (const expr of target.crons) {
      const job = new Cron(expr, { timezone: "UTC", protect: true }, async (self: Cron) => {
        const scheduledTime = (self.currentRun() ?? new Date()).getTime();
        const r = await target.run(expr, scheduledTime);
        if (!r.ok) this.#log(`[${target.app}] scheduled() for "${expr}" failed: ${r.error?.message ?? "unknown error"}`);
      });
      jobs.push(job);
    }
    this.#jobs.set(target.app, jobs);
  }

  remove(app: string): void {
    for (const j of this.#jobs.get(app) ?? []) j.stop();
    this.#jobs.delete(app);
  }

  stop(): void {
    for (const app of [...this.#jobs.keys()]) this.remove(app);
  }
}
