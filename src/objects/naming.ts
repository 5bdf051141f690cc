/**
 * A Durable Object namespace keeps its identity across class renames (migrations
 * `renamed_classes` keep data): ids minted before a rename stay valid after it, and the storage
 * folder does not move. So both are keyed by the class's original name, found by following the
 * config's renames backwards.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { AppConfig } from "../config/types.js";
import { insideRoot } from "../shared/paths.js";

export function originalClassName(config: Pick<AppConfig, "renamedClasses">, className: string): string {
  let name = className;
  for (let i = config.renamedClasses.length - 1; i >= 0; i--) {
    const r = config.renamedClasses[i]!;
    if (r.to === name) name = r.from;
  }
  return name;
}

/** Key that names a namespace: seeds its id MAC and names its storage folder. */
export function namespaceKey(app: string, config: Pick<AppConfig, "renamedClasses"> | null, className: string): string {
  return `${app}-${config ? originalClassName(config, className) : className}`;
}

/** `<persistDir>/do/<key>`; throws when the key would leave `<persistDir>/do` (see shared/paths.ts). */
export function namespaceDir(persistDir: string, key: string): string {
  return insideRoot(join(persistDir, "do"), key);
}

/** The SQLite file of one object; its id (64 hex characters) must not leave the namespace folder. */
export function objectFile(namespaceFolder: string, id: string): string {
  return insideRoot(namespaceFolder, `${id}.sqlite`);
}

/** Removes the stored objects of classes that migrations deleted (as Cloudflare does at deploy). */
export function removeDeletedClasses(persistDir: string, config: AppConfig): string[] {
  const removed: string[] = [];
  for (const cls of config.deletedClasses) {
    const dir = namespaceDir(persistDir, namespaceKey(config.name, config, cls));
    if (!existsSync(dir)) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(cls);
  }
  return removed;
}
