/**
 * Durable Objects: the folder's contract; other folders import objects/ only through this file.
 *
 * Most of it runs inside an app isolate (the manager, namespaces and stubs, `ctx`, timers); the
 * address, the call, naming and placement are also used by the host. Nothing here imports from
 * src/runtime (test/unit/objects-boundary.test.ts checks it): the isolate passes in its invocation
 * scope (`InvocationScope`), its `DurableObject` check and sockets that implement
 * `HibernatableSocket`.
 */
export { objectKey, type ObjectAddress } from "./address.js";
export { readAlarmIndex, type AlarmRow } from "./alarm-index.js";
export { ALARM_MAX_RETRIES, ALARM_RETRY_BASE_MS, ObjectAlarms } from "./alarms.js";
export {
  callTargetApp,
  CallErrorCode,
  DEFAULT_CALL_DEADLINE_MS,
  lateCallError,
  type CallBody,
  type CallEnvelope,
  type CallResult,
  type CallRoute,
  type ObjectCall,
  type ServiceCall,
} from "./call.js";
export { LocalDirectory, locateIn, type AppPlacement, type ObjectDirectory, type Route } from "./directory.js";
export { DurableObjectId } from "./id.js";
export { ObjectManager, type ObjectClassInfo, type ObjectEvent, type ObjectManagerOptions, type StorageHandle } from "./manager.js";
export { DurableObjectNamespace, type DurableObjectStub, type ObjectRouter } from "./namespace.js";
export { namespaceDir, namespaceKey, objectFile, removeDeletedClasses } from "./naming.js";
export type { InvocationScope, ObjectInvocation } from "./scope.js";
export { kGate, kHibernation, type HibernatableSocket, type HibernationRecord, type OutputGate } from "./socket.js";
export { DurableObjectState, WebSocketRequestResponsePair, type HibernationState } from "./state.js";
export { ObjectTimers } from "./timers.js";
