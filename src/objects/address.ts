/**
 * How a Durable Object is named wherever it is handled: in its isolate, by the host's alarm clock
 * and socket bridge, and (later) by another node. Plain data, because it crosses threads and nodes.
 */

/** Identifies a Durable Object: the app that defines its class, the class and the id. */
export interface ObjectAddress {
  /** App (script) that defines the class. */
  app: string;
  className: string;
  /** 64 lower-case hex characters. */
  id: string;
  /** The name the id was derived from, if any (`ctx.id.name`). */
  name?: string;
}

/** One string per object, for maps keyed by object (the name is not part of it). */
export function objectKey(a: ObjectAddress): string {
  return `${a.app}\u0000${a.className}\u0000${a.id}`;
}
