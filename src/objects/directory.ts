/**
 * Where does a Durable Object live? The one place that answers it, so the cluster (a later step)
 * can swap the one-node answer for a JetStream-backed one without touching callers.
 *
 * On one node an object lives in one isolate of its app's pool: `hash(id) % poolSize`. The pool
 * size is fixed for a generation of the app, so the answer never changes while instances live.
 */
import { idHash } from "./id.js";

export interface ObjectLocation {
  /** Node that owns the object (always "local" on one node). */
  node: string;
  /** Index of the isolate in the app's pool on that node. */
  poolIndex: number;
}

export interface ObjectDirectory {
  locate(app: string, className: string, id: string): ObjectLocation;
  /** Claims ownership before an instance starts; a cluster implementation fences other nodes. */
  claim(app: string, className: string, id: string): Promise<void>;
  release(app: string, className: string, id: string): Promise<void>;
}

export class LocalDirectory implements ObjectDirectory {
  constructor(private readonly poolSizeOf: (app: string) => number) {}
  locate(app: string, _className: string, id: string): ObjectLocation {
    return { node: "local", poolIndex: idHash(id) % Math.max(1, this.poolSizeOf(app)) };
  }
  async claim(): Promise<void> {}
  async release(): Promise<void> {}
}
