/**
 * Messages between the node's main thread (front door, schedulers) and an app isolate (a worker
 * thread). Everything here crosses `postMessage`, so it is plain data: no classes, no functions.
 * Binary payloads travel as transferred ArrayBuffers.
 *
 * Direction is in the name: `H*` host → isolate, `I*` isolate → host. The plain-data forms of
 * requests, responses and errors are in src/shared/wire.ts; an object call and its address belong
 * to src/objects (call.ts, address.ts).
 */
import type { AppConfig } from "../config/types.js";
import type { AppPlacement, CallResult, ObjectAddress, ObjectCall } from "../objects/index.js";
import type { SerializedError, SerializedRequest, SerializedResponse } from "../shared/wire.js";

export interface IsolateInit {
  isolateId: string;
  /** Position in the app's pool. */
  poolIndex: number;
  /** Where the app's objects live, from the node's directory (src/objects/directory.ts). */
  placement: AppPlacement;
  appName: string;
  code: string;
  config: AppConfig;
  persistDir: string;
  /** Region name used as `request.cf.colo`. */
  colo: string;
  dev: boolean;
  /** Object events wait until the host says the previous generation of this app is gone. */
  objectsEnabled: boolean;
  /** Durability of object storage commits. */
  durability: "full" | "normal";
  /** Idle time after which an object is evicted from memory. */
  objectIdleMs: number;
  /** Idle time after which an object with only hibernatable sockets is evicted. */
  hibernateIdleMs: number;
  /** Cache API size bound in bytes. */
  cacheMaxBytes: number;
}

export type HostToIsolate =
  | { t: "fetch"; rid: number; reqId: string; req: SerializedRequest }
  | { t: "scheduled"; rid: number; reqId: string; cron: string; scheduledTime: number }
  | { t: "alarm"; rid: number; reqId: string; target: ObjectAddress; retryCount: number; scheduledTime: number }
  | { t: "ws-message"; wsId: string; data: string | ArrayBuffer }
  | { t: "ws-close"; wsId: string; code: number; reason: string; wasClean: boolean }
  | { t: "ws-error"; wsId: string; message: string }
  | { t: "objects-enable" }
  | { t: "ping"; seq: number }
  /** Replaces the port to a peer isolate of the same app (that peer was restarted). */
  | { t: "peer"; poolIndex: number; port: import("node:worker_threads").MessagePort }
  /** The front door handed `bytes` of a streamed response to the client's socket (flow control). */
  | { t: "ack"; rid: number; bytes: number }
  /** The client went away: stop streaming this response. */
  | { t: "cancel"; rid: number }
  | { t: "drain" }
  /** A call from another isolate of this node (another app, via `script_name`). */
  | { t: "object-call"; rid: number; call: ObjectCall }
  | ({ t: "object-result"; rid: number } & CallResult);

export type IsolateToHost =
  | { t: "ready"; exports: string[]; startMs: number }
  | { t: "init-error"; error: SerializedError }
  | { t: "response"; rid: number; res: SerializedResponse }
  | { t: "chunk"; rid: number; data: ArrayBuffer }
  | { t: "end"; rid: number; error?: SerializedError }
  | { t: "error"; rid: number; error: SerializedError; status?: number }
  | { t: "done"; rid: number; ok: boolean; error?: SerializedError; noRetry?: boolean }
  | { t: "ws-send"; wsId: string; data: string | ArrayBuffer }
  | { t: "ws-close"; wsId: string; code?: number; reason?: string }
  /** A hibernatable socket's owner changed (accepted by an object) or it was released. */
  | { t: "ws-owner"; wsId: string; target: ObjectAddress | null }
  | { t: "alarm-set"; target: ObjectAddress; time: number | null }
  | { t: "pong"; seq: number }
  | { t: "idle" }
  | { t: "object-call"; rid: number; call: ObjectCall }
  | ({ t: "object-result"; rid: number } & CallResult);
