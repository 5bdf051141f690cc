/**
 * Durable Object ids: 64 lower-case hex characters = a 16-byte base and a 16-byte MAC of it.
 * The MAC key is derived from the namespace's unique key (`<app>-<class>`, as miniflare names it),
 * so `idFromName` is deterministic per namespace on every node and across restarts, and an id minted
 * by one namespace fails `idFromString` on another.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";

export class DurableObjectId {
  readonly #hex: string;
  readonly name: string | undefined;
  constructor(hex: string, name?: string) {
    this.#hex = hex;
    this.name = name;
  }
  toString(): string {
    return this.#hex;
  }
  toJSON(): string {
    return this.#hex;
  }
  equals(other: DurableObjectId): boolean {
    return other instanceof DurableObjectId && other.#hex === this.#hex;
  }
  get jurisdiction(): string | undefined {
    return undefined;
  }
}

const NAME_CACHE_SIZE = 4096;

export class IdMinter {
  readonly #key: Buffer;
  constructor(uniqueKey: string) {
    this.#key = createHash("sha256").update(uniqueKey).digest();
  }
  #mac(base: Buffer): Buffer {
    return createHmac("sha256", this.#key).update(base).digest().subarray(0, 16);
  }
  /**
   * Two HMACs per call were ~6% of an isolate's time under a hot `getByName()` load, and apps call
   * it with the same few names per request: remember recent answers.
   */
  readonly #byName = new Map<string, string>();

  fromName(name: string): string {
    const hit = this.#byName.get(name);
    if (hit !== undefined) return hit;
    const base = createHmac("sha256", this.#key).update(name).digest().subarray(0, 16);
    const hex = Buffer.concat([base, this.#mac(base)]).toString("hex");
    if (this.#byName.size >= NAME_CACHE_SIZE) this.#byName.clear();
    this.#byName.set(name, hex);
    return hex;
  }
  unique(): string {
    const base = randomBytes(16);
    return Buffer.concat([base, this.#mac(base)]).toString("hex");
  }
  /** Throws TypeError unless `hex` is a well-formed id minted by this namespace. */
  check(hex: string): string {
    if (typeof hex !== "string" || !/^[0-9a-fA-F]{64}$/.test(hex)) {
      throw new TypeError("Invalid Durable Object ID: must be 64 hex digits");
    }
    const lower = hex.toLowerCase();
    const buf = Buffer.from(lower, "hex");
    if (!this.#mac(buf.subarray(0, 16)).equals(buf.subarray(16))) {
      throw new TypeError("Invalid Durable Object ID: ID is not for this Durable Object class.");
    }
    return lower;
  }
}

/** Stable 32-bit number from an id, for placing objects on one of an app's isolates. */
export function idHash(hex: string): number {
  return Number.parseInt(hex.slice(0, 8), 16) >>> 0;
}
