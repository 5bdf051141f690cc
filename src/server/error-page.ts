/** Error responses rendered by the front door (user code never ran, failed, or was stopped). */
import { STATUS_CODES } from "node:http";
import type { SerializedError } from "../shared/wire.js";

export function errorBody(status: number, err: SerializedError, reqId: string, dev: boolean): string {
  const title =
    status === 503
      ? err.code === "LEDGE_CPU_LIMIT" || err.code === "LEDGE_MEMORY_LIMIT"
        ? "Worker exceeded resource limits"
        : "Service unavailable"
      : status === 413
        ? "Payload too large"
        : "Worker threw an exception";
  const lines = [`${status} ${title}`, `Request id: ${reqId}`];
  if (dev) {
    lines.push("", err.stack ?? `${err.name}: ${err.message}`);
  } else if (status === 503 || status === 413) {
    lines.push(err.message);
  }
  return lines.join("\n") + "\n";
}

/** A request the front door refuses before any Worker sees it: malformed, or over a limit. */
export function refusalBody(status: number, message: string): string {
  return `${status} ${STATUS_CODES[status] ?? "Error"}\n${message}\n`;
}
