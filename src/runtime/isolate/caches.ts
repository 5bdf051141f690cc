/**
 * The `caches` global, opened on first use so apps that never touch the Cache API never open its
 * database.
 */
import { cacheDbPath, createCacheStorage, type CacheStorage } from "../../cache/index.js";
import type { IsolateInit } from "../protocol.js";

export function lazyCaches(init: IsolateInit): CacheStorage {
  let storage: CacheStorage | undefined;
  const get = () => (storage ??= createCacheStorage({ dbPath: cacheDbPath(init.persistDir), maxBytes: init.cacheMaxBytes }));
  return {
    get default() {
      return get().default;
    },
    open(name: string) {
      return get().open(name);
    },
  };
}
