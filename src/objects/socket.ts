/**
 * What Durable Objects need from a WebSocket end: the server end the isolate's `WebSocketPair`
 * makes (src/runtime/isolate/websocket.ts implements this). An object gates the socket's sends on
 * its storage (the output gate) and, when it accepts the socket with `ctx.acceptWebSocket`, gives it
 * a hibernation record, which outlives the instance that accepted it.
 *
 * The runtime's members sit behind symbols so that user code, which holds the same object as its
 * `WebSocket`, does not see them by name.
 */
import type { Buffer } from "node:buffer";
import type { ObjectAddress } from "./address.js";

export const kHibernation = Symbol("ledge.ws.hibernation");
export const kGate = Symbol("ledge.ws.gate");

/** Runs `fn` once every write made so far is durable (the output gate). */
export type OutputGate = (fn: () => void) => void;

export interface HibernationRecord {
  /** Key (objectKey) of the object that accepted the socket. */
  objectKey: string;
  /** The object that accepted the socket, to wake it for the socket's events. */
  address: ObjectAddress;
  tags: string[];
  /** Last `serializeAttachment` value, serialized (survives the object's eviction). */
  attachment: Buffer | null;
  autoResponseAt: Date | null;
}

export interface HibernatableSocket {
  readonly wsId: string;
  /** 0 connecting, 1 open, 2 closing, 3 closed (the WebSocket constants). */
  readyState: number;
  /** Accepted with `accept()` or `ctx.acceptWebSocket()`. */
  readonly accepted: boolean;
  /** Returned in a 101 Response: this end left the isolate and cannot be accepted. */
  readonly transferred: boolean;
  accept(): void;
  serializeAttachment(value: unknown): void;
  deserializeAttachment(): unknown;
  /** Sends without the output gate or the accept check (auto-responses of hibernated objects). */
  sendDirect(data: string): void;
  addEventListener(type: "close", listener: () => void): void;
  [kHibernation]: HibernationRecord | null;
  [kGate]: OutputGate | null;
}
