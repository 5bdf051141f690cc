/**
 * A Ledge node: the apps it runs, their isolates, the WebSockets it holds for them, and the clocks
 * that fire alarms and cron triggers. The front door (src/server) hands it requests.
 */
import { availableParallelism } from "node:os";
import { randomBytes } from "node:crypto";
import type { AppConfig } from "../config/types.js";
import { CronScheduler } from "../cron/index.js";
import { CallErrorCode, callTargetApp, LocalDirectory, removeDeletedClasses, type CallResult, type ObjectDirectory } from "../objects/index.js";
import { Accounts } from "./accounts.js";
import { AlarmScheduler } from "./alarms.js";
import { AppHost, type AppRuntimeOptions, type IsolateProvider } from "./app-host.js";
import { IsolateHandle, type IsolateEvents } from "./isolate-handle.js";
import type { IsolateToHost } from "./protocol.js";
import type { SerializedError } from "../shared/wire.js";
import { SocketBridge } from "./sockets.js";

export interface NodeOptions extends Omit<AppRuntimeOptions, "poolSize"> {
  /** Isolates per app; default: one per core. */
  poolSize?: number;
  log?: (line: string) => void;
  /** Alarm retry backoff base in ms (default 2,000, as on Cloudflare). */
  alarmRetryBaseMs?: number;
  /** Isolates started early (before the config and bundle were ready), used first. */
  prestarted?: IsolateHandle[];
  /** Apps that form one account (`--trust A,B`, one list per flag; `*` = all); default: each app alone. */
  trust?: string[][];
}

const DEFAULT_MEMORY_MB = 128;

export class LedgeNode implements IsolateProvider {
  readonly apps = new Map<string, AppHost>();
  readonly isolates = new Map<string, IsolateHandle>();
  readonly sockets = new SocketBridge();
  /** Where each object lives: the one placement authority of this node. */
  readonly directory: ObjectDirectory = new LocalDirectory((app) => this.apps.get(app)?.poolSize ?? 1);
  readonly alarms: AlarmScheduler;
  readonly crons: CronScheduler;
  readonly accounts: Accounts;
  readonly #opts: AppRuntimeOptions;
  readonly log: (line: string) => void;
  #spare: IsolateHandle | null = null;
  #prestarted: IsolateHandle[];
  #watchdog: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(opts: NodeOptions) {
    this.#opts = { ...opts, poolSize: opts.poolSize ?? availableParallelism() };
    this.log = opts.log ?? ((line) => process.stderr.write(line + "\n"));
    this.alarms = new AlarmScheduler(opts.persistDir, { retryBaseMs: opts.alarmRetryBaseMs });
    this.crons = new CronScheduler(this.log);
    this.accounts = new Accounts(opts.persistDir, opts.trust);
    this.#prestarted = opts.prestarted ?? [];
  }

  /** A started isolate waiting for its app: the spare if it fits, else a new one; refills the spare. */
  takeIsolate(memoryMb: number): IsolateHandle {
    let h: IsolateHandle;
    const early = this.#prestarted.shift();
    if (early && !early.dead && memoryMb === DEFAULT_MEMORY_MB) {
      h = early;
    } else if (early) {
      void early.worker.terminate();
      h = new IsolateHandle(memoryMb);
    } else if (this.#spare && !this.#spare.dead && memoryMb === DEFAULT_MEMORY_MB) {
      h = this.#spare;
      this.#spare = null;
    } else {
      h = new IsolateHandle(memoryMb);
    }
    this.isolates.set(h.id, h);
    // `dev` keeps a warm spare so a reload does not wait for a thread to boot; `serve` does not
    // reload, and an idle thread costs ~40 MB of memory.
    if (this.#opts.dev && !this.#spare && !this.#stopped) {
      // Refill once the current burst of work is over, so the spare does not compete with it.
      setTimeout(() => {
        if (!this.#spare && !this.#stopped) this.#spare = new IsolateHandle(DEFAULT_MEMORY_MB);
      }, 1000).unref();
    }
    return h;
  }

  readonly events: IsolateEvents = {
    message: (iso, msg) => this.#onMessage(iso, msg),
    exit: (iso, reason) => this.#onExit(iso, reason),
  };

  #onMessage(iso: IsolateHandle, msg: IsolateToHost): void {
    switch (msg.t) {
      case "ws-send":
        this.sockets.send(msg.wsId, msg.data);
        return;
      case "ws-close":
        this.sockets.close(msg.wsId, msg.code, msg.reason);
        return;
      case "alarm-set":
        this.alarms.set(msg.target, msg.time);
        return;
      case "object-call": {
        const target = callTargetApp(msg.call);
        const app = this.apps.get(target);
        const reply = (r: CallResult) => iso.post({ t: "object-result", rid: msg.rid, ok: r.ok, value: r.value, error: r.error });
        // Deploy already refused configs that reach across accounts; this holds the rule where
        // calls actually cross, whatever made the call.
        if (!this.accounts.sameAccount(iso.appName, target)) {
          reply({ ok: false, error: { name: "Error", message: `App "${iso.appName}" may not call app "${target}": they are different accounts (see --trust)`, code: "LEDGE_APP_BOUNDARY" } });
          return;
        }
        if (!app) {
          reply({ ok: false, error: { name: "Error", message: `No app named "${target}" runs on this node`, code: CallErrorCode.noApp } });
          return;
        }
        void app.objectCall(msg.call).then(reply);
        return;
      }
    }
  }

  #onExit(iso: IsolateHandle, reason: SerializedError): void {
    this.isolates.delete(iso.id);
    this.sockets.closeFor(iso, 1011, "isolate restarted");
    if (this.#stopped) return;
    for (const app of this.apps.values()) {
      if (app.isolates.includes(iso)) {
        this.log(`[${app.name}] isolate ${iso.id} stopped (${reason.message}); starting a new one`);
        app.replace(iso);
      }
    }
  }

  async deploy(config: AppConfig, code: string): Promise<AppHost> {
    this.accounts.check(config);
    for (const cls of removeDeletedClasses(this.#opts.persistDir, config)) {
      this.log(`[${config.name}] migrations delete class ${cls}: its stored objects were removed`);
    }
    let app = this.apps.get(config.name);
    if (!app) {
      app = new AppHost(config.name, this.#opts, this);
      this.apps.set(config.name, app);
    }
    await app.deploy(config, code);
    const host = app;
    this.crons.set({
      app: config.name,
      crons: config.crons,
      run: (cron, scheduledTime) => host.run({ t: "scheduled", rid: 0, reqId: newRequestId(), cron, scheduledTime }),
    });
    return app;
  }

  start(): void {
    this.alarms.start({
      runAlarm: async (target, scheduledTime, retryCount) => {
        const app = this.apps.get(target.app);
        if (!app) return false;
        const r = await app.alarm({ t: "alarm", rid: 0, reqId: newRequestId(), target, retryCount, scheduledTime });
        return r.ok;
      },
    });
    this.#watchdog = setInterval(() => this.#checkIsolates(), 50);
    this.#watchdog.unref();
  }

  #checkIsolates(): void {
    const now = Date.now();
    for (const app of this.apps.values()) {
      const limit = app.config?.limits.cpuMs ?? 30_000;
      for (const iso of app.isolates) {
        if (iso.overdue(now, limit)) {
          this.log(`[${app.name}] isolate ${iso.id} exceeded its CPU limit of ${limit} ms; terminating it`);
          iso.kill({ name: "Error", message: `Worker exceeded CPU time limit (${limit} ms)`, code: "LEDGE_CPU_LIMIT" });
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.crons.stop();
    this.sockets.closeAll(1001, "server shutting down");
    await Promise.all([...this.apps.values()].map((a) => a.stop()));
    if (this.#spare) await this.#spare.worker.terminate();
    for (const h of this.#prestarted) await h.worker.terminate();
    this.alarms.close();
  }
}

const ridPrefix = randomBytes(4).toString("hex");
let ridSeq = 0;
/** Request ids: unique per node run, short enough for log lines. */
export function newRequestId(): string {
  return `${ridPrefix}${(++ridSeq).toString(16).padStart(6, "0")}`;
}
