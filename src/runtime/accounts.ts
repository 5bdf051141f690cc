/**
 * App boundaries on one node, modelled on Cloudflare's account boundary. Each app is its own
 * account unless the operator says otherwise with `--trust A,B` (one account per flag; `*` puts
 * every app in one account). Across accounts an app may not reach another app's Durable Objects
 * (`script_name`), call it (`services`), or bind a KV namespace another app owns. App config is
 * written by the app's author, so the grant comes only from the node's options, never the config.
 *
 * A KV namespace id is owned by the first app that binds it, recorded in
 * `<persistDir>/kv/<id>.owner` (created exclusively, so two nodes starting together agree).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { AppConfig } from "../config/types.js";
import { kvDbPath } from "../kv/index.js";
import { LedgeError } from "../shared/errors.js";

export class Accounts {
  readonly #persistDir: string;
  readonly #groups: ReadonlySet<string>[];
  readonly #all: boolean;

  /** `trust`: the apps of each `--trust` flag. Example: `new Accounts(dir, [["front", "auth"]])`. */
  constructor(persistDir: string, trust: readonly (readonly string[])[] = []) {
    this.#persistDir = persistDir;
    this.#all = trust.some((g) => g.includes("*"));
    this.#groups = trust.map((g) => new Set(g));
  }

  /** True when `a` may reach `b`'s objects, services and KV namespaces. */
  sameAccount(a: string, b: string): boolean {
    return a === b || this.#all || this.#groups.some((g) => g.has(a) && g.has(b));
  }

  /**
   * Throws one line per reference the app's config makes into another account. Only an app that
   * starts claims the KV namespaces no app owns yet: a refused one claims nothing.
   */
  check(config: AppConfig): void {
    const app = config.name;
    const refused: string[] = [];
    const refuse = (what: string, other: string, fix = "") =>
      refused.push(`app "${app}": ${what}; apps reach each other only when the operator allows it: ${fix}--trust ${app},${other}`);
    const checkKv = (owner: (file: string) => string | null) =>
      config.kvNamespaces.forEach((kv, i) => {
        const found = owner(this.#ownerFile(kv.id));
        if (found !== null && !this.sameAccount(app, found)) {
          refuse(
            `kv_namespaces[${i}] (binding ${kv.binding}) uses KV namespace "${kv.id}", which belongs to app "${found}"`,
            found,
            "give the binding an id of its own, or share it with ",
          );
        }
      });
    config.services.forEach((s, i) => {
      if (!this.sameAccount(app, s.service)) refuse(`services[${i}] (binding ${s.binding}) calls app "${s.service}"`, s.service);
    });
    config.durableObjects.forEach((b, i) => {
      if (b.scriptName !== undefined && !this.sameAccount(app, b.scriptName)) {
        refuse(`durable_objects.bindings[${i}] (binding ${b.name}) has script_name "${b.scriptName}"`, b.scriptName);
      }
    });
    checkKv(readOwner);
    // Claimed only now; another node may have claimed an id since it was read, so look again.
    if (refused.length === 0) checkKv((file) => claim(file, app));
    if (refused.length > 0) throw new LedgeError("LEDGE_APP_BOUNDARY", refused.join("\n"));
  }

  #ownerFile(id: string): string {
    return kvDbPath(this.#persistDir, id).replace(/\.sqlite$/, ".owner");
  }
}

function readOwner(file: string): string | null {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** The owner recorded in `file`, recording `app` when there is none (exclusive create: one node wins). */
function claim(file: string, app: string): string {
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, `${app}\n`, { flag: "wx" });
    return app;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return readOwner(file) ?? app;
}

/**
 * `--trust` values: each is one account, its apps separated by commas.
 * Example: `parseTrust(["front,auth", "billing,reports"])` → `[["front", "auth"], ["billing", "reports"]]`.
 */
export function parseTrust(values: readonly string[]): string[][] {
  return values.map((v) => {
    const apps = v.split(",").map((s) => s.trim());
    if (apps.some((a) => a === "") || (apps.length < 2 && apps[0] !== "*")) {
      throw new LedgeError("LEDGE_CLI", `--trust expects two or more app names separated by commas (e.g. --trust front,auth), or *; got "${v}"`);
    }
    return apps;
  });
}
