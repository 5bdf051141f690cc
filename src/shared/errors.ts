/**
 * Every error Ledge raises on purpose carries a stable `code` and a `kind`:
 * - `user`: the caller (a config, a request, user code) must change something; shown without a stack.
 * - `system`: Ledge or the machine failed; logged with a stack.
 * Across threads and nodes errors travel as plain data, so compare `code`, never `instanceof`.
 */
export type ErrorKind = "user" | "system";

export class LedgeError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  constructor(code: string, message: string, kind: ErrorKind = "user", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LedgeError";
    this.code = code;
    this.kind = kind;
  }
}

/** A feature that exists on Cloudflare but not in Ledge yet. Listed in docs/compatibility.md. */
export class NotSupportedError extends LedgeError {
  constructor(feature: string) {
    super("LEDGE_NOT_SUPPORTED", `${feature} is not supported yet by Ledge (see docs/compatibility.md)`);
    this.name = "NotSupportedError";
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
