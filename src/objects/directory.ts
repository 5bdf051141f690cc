/**
 * Where does a Durable Object live? One authority per node answers it, the `ObjectDirectory` the
 * node's host holds, so the cluster (a later step) can swap the one-node answer for a
 * JetStream-backed one without touching callers. Its answer is a `Route`: an isolate of this node
 * today, another node later.
 *
 * Isolates route their own calls without asking the host: the directory hands each isolate its
 * app's `AppPlacement` (plain data, in the isolate's start-up message) and the isolate reads it
 * with `locateIn`, the same function the directory answers with, so the two cannot disagree.
 *
 * On one node an object lives in one isolate of its app's pool: `hash(id) % poolSize`. The pool
 * size is fixed for an app on a node, so the answer never changes while instances live.
 * test/unit/directory.contract.ts is the suite every directory passes.
 */
import type { ObjectAddress } from "./address.js";
import { idHash } from "./id.js";

/** Where an object lives, as the directory answers. */
export type Route =
  /** An isolate of this node, by its index in the app's pool. */
  { kind: "isolate"; poolIndex: number };
// A cluster adds `{ kind: "node"; node: string }`: an object another node owns.

/** An app's placement on this node, as plain data an isolate holds to route its own calls. */
export interface AppPlacement {
  app: string;
  /** Isolates in the app's pool (at least 1). */
  poolSize: number;
}

export interface ObjectDirectory {
  /** Where the object lives now; the same answer for the same object while it lives there. */
  locate(address: ObjectAddress): Route;
  /** What an isolate of `app` needs to route calls itself (`locateIn`). */
  placementOf(app: string): AppPlacement;
  /** Claims ownership before an instance starts; a cluster implementation fences other nodes. */
  claim(address: ObjectAddress): Promise<void>;
  release(address: ObjectAddress): Promise<void>;
}

/** The route of an object of `placement.app`, read from the placement the directory handed out. */
export function locateIn(placement: AppPlacement, address: ObjectAddress): Route {
  return { kind: "isolate", poolIndex: idHash(address.id) % placement.poolSize };
}

/** The directory of one node on its own: every object lives here, in the isolate its id hashes to. */
export class LocalDirectory implements ObjectDirectory {
  readonly #poolSizeOf: (app: string) => number;

  /** `poolSizeOf(app)`: isolates in the app's pool on this node (fixed while the app runs). */
  constructor(poolSizeOf: (app: string) => number) {
    this.#poolSizeOf = poolSizeOf;
  }

  locate(address: ObjectAddress): Route {
    return locateIn(this.placementOf(address.app), address);
  }

  placementOf(app: string): AppPlacement {
    return { app, poolSize: Math.max(1, this.#poolSizeOf(app)) };
  }

  async claim(): Promise<void> {}
  async release(): Promise<void> {}
}
