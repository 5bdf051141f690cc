/** Error responses rendered by the front door (user code never ran, failed, or was stopped). */
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
