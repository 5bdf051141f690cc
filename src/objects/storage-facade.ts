/**
 * What user code gets as `ctx.storage`: the storage API without the runtime's members
 * (`whenDurable`, `close`, `broken`, `stats`), and with `transaction()` run under `hold`, which
 * keeps the object's mailbox shut while the transaction is open so no other event's writes can join
 * it (and share its rollback).
 */
const USER_STORAGE_METHODS = [
  "get",
  "put",
  "delete",
  "list",
  "deleteAll",
  "transactionSync",
  "sync",
  "getAlarm",
  "setAlarm",
  "deleteAlarm",
  "getCurrentBookmark",
  "getBookmarkForTime",
  "onNextSessionRestoreBookmark",
];

export function userStorageFacade(storage: unknown, hold: <T>(fn: () => Promise<T>) => Promise<T>): Record<string, unknown> {
  const s = storage as Record<string, (...a: unknown[]) => unknown>;
  const facade: Record<string, unknown> = {};
  for (const name of USER_STORAGE_METHODS) {
    const fn = s[name];
    if (typeof fn === "function") facade[name] = fn.bind(s);
  }
  facade.transaction = (closure: unknown) => hold(() => s.transaction!.call(s, closure) as Promise<unknown>);
  Object.defineProperty(facade, "sql", { get: () => (s as { sql?: unknown }).sql, enumerable: true });
  Object.defineProperty(facade, "kv", { get: () => (s as { kv?: unknown }).kv, enumerable: true });
  return facade;
}
