/**
 * An object call's deadline (src/objects/call.ts): a callee refuses a call that reaches it after
 * its `deadlineAt`, with a stable code that survives the trip back to the caller as data.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CallErrorCode, DEFAULT_CALL_DEADLINE_MS, lateCallError, type ObjectCall } from "../../src/objects/index.js";
import { deserializeError, serializeError } from "../../src/shared/wire.js";

const NOW = 1_800_000_000_000;
const target = { app: "shop", className: "Cart", id: "c".repeat(64) };
const rpc = (deadlineAt: number): ObjectCall => ({ kind: "rpc", target, method: "add", args: [1], deadlineAt, route: { kind: "isolate", poolIndex: 1 } });

test("a call that arrives by its deadline is served", () => {
  assert.equal(lateCallError(rpc(NOW + DEFAULT_CALL_DEADLINE_MS), NOW), null);
  assert.equal(lateCallError(rpc(NOW), NOW), null, "the deadline itself is still in time");
});

test("a call that arrives after its deadline is refused with a code, naming the callee and by how much", () => {
  const err = lateCallError(rpc(NOW - 250), NOW) as Error & { code?: string };
  assert.equal(err.code, CallErrorCode.deadlineExceeded);
  assert.equal(err.message, `The call to Durable Object Cart ${target.id} arrived 250 ms after its deadline and was not started`);
  const service: ObjectCall = { kind: "service-rpc", app: "auth", method: "check", args: [], deadlineAt: NOW - 1, route: { kind: "host" } };
  assert.match(lateCallError(service, NOW)!.message, /^The call to the default entrypoint of auth arrived 1 ms after/);
});

test("the refusal keeps its code when it travels back to the caller as data", () => {
  const back = deserializeError(serializeError(lateCallError(rpc(NOW - 1), NOW)), { remote: true }) as Error & { code?: string; remote?: boolean };
  assert.equal(back.code, "LEDGE_CALL_DEADLINE_EXCEEDED");
  assert.equal(back.remote, true);
});

test("the default deadline is a generous 60 s", () => {
  assert.equal(DEFAULT_CALL_DEADLINE_MS, 60_000);
});
