/**
 * The `console` user code sees: every line goes to the node's stdout (stderr for warn/error)
 * prefixed with the app name and the id of the request it ran for, so a line can be traced back
 * to the access-log line of the same request.
 */
import { formatWithOptions } from "node:util";
import process from "node:process";
import { currentReqId } from "./context.js";

type Level = "log" | "info" | "debug" | "warn" | "error";

export function createConsole(appName: string): Console {
  const write = (level: Level, args: unknown[]) => {
    const text = formatWithOptions({ colors: false, depth: 6 }, ...args);
    const rid = currentReqId();
    const prefix = rid ? `[${appName} ${rid}]` : `[${appName}]`;
    const tag = level === "warn" || level === "error" ? ` ${level}:` : "";
    const line = `${prefix}${tag} ${text.replace(/\n/g, `\n${prefix} `)}\n`;
    (level === "warn" || level === "error" ? process.stderr : process.stdout).write(line);
  };
  const timers = new Map<string, number>();
  const counts = new Map<string, number>();
  const c = {
    log: (...a: unknown[]) => write("log", a),
    info: (...a: unknown[]) => write("info", a),
    debug: (...a: unknown[]) => write("debug", a),
    trace: (...a: unknown[]) => write("debug", [...a, new Error("trace").stack?.split("\n").slice(2).join("\n")]),
    warn: (...a: unknown[]) => write("warn", a),
    error: (...a: unknown[]) => write("error", a),
    dir: (o: unknown) => write("log", [o]),
    table: (o: unknown) => write("log", [o]),
    assert: (cond: unknown, ...a: unknown[]) => {
      if (!cond) write("error", ["Assertion failed:", ...a]);
    },
    time: (label = "default") => void timers.set(label, performance.now()),
    timeEnd: (label = "default") => {
      const t = timers.get(label);
      if (t !== undefined) write("log", [`${label}: ${(performance.now() - t).toFixed(3)}ms`]);
      timers.delete(label);
    },
    timeLog: (label = "default", ...a: unknown[]) => {
      const t = timers.get(label);
      if (t !== undefined) write("log", [`${label}: ${(performance.now() - t).toFixed(3)}ms`, ...a]);
    },
    count: (label = "default") => {
      const n = (counts.get(label) ?? 0) + 1;
      counts.set(label, n);
      write("log", [`${label}: ${n}`]);
    },
    countReset: (label = "default") => void counts.delete(label),
    group: (...a: unknown[]) => (a.length ? write("log", a) : undefined),
    groupCollapsed: (...a: unknown[]) => (a.length ? write("log", a) : undefined),
    groupEnd: () => {},
  };
  return c as unknown as Console;
}
