/**
 * Shapes the isolate's global scope into the Workers one before user code runs: adds what Workers
 * has and Node lacks, and swaps in Workers' fetch classes. lockdown.ts then takes the host's powers
 * out of the same global scope.
 *
 * User code runs in the worker thread's main realm rather than a `node:vm` context: one realm
 * means `instanceof Uint8Array`, `instanceof Response` and friends hold for every object user code
 * touches, which a second realm breaks in many npm packages. Without Node.js compatibility,
 * src/runtime/isolate/evaluate.ts hides Node's globals (`Buffer`, `setImmediate`, …) from the bundle
 * lexically. What keeps user code from the host is lockdown.ts and the thread's code-generation
 * switch (docs/security.md), not the realm.
 */
import { createConsole } from "./console.js";
import { installIteratorHelpers } from "./iterator-helpers.js";
import { FixedLengthStream, HTMLRewriter, IdentityTransformStream, Request, Response, fetch, navigator, scheduler } from "./web.js";
import { CloseEvent, ErrorEvent, WebSocket, WebSocketPair } from "./websocket.js";
import { WebSocketRequestResponsePair } from "../../objects/index.js";

export function installGlobals(opts: { appName: string; caches: unknown; binaryTypeBlob: boolean }): void {
  const g = globalThis as Record<string, unknown>;
  const define = (name: string, value: unknown) =>
    Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });

  define("Request", Request);
  define("Response", Response);
  define("fetch", fetch);
  define("WebSocket", WebSocket);
  define("WebSocketPair", WebSocketPair);
  define("WebSocketRequestResponsePair", WebSocketRequestResponsePair);
  if (!("CloseEvent" in g)) define("CloseEvent", CloseEvent);
  if (!("ErrorEvent" in g)) define("ErrorEvent", ErrorEvent);
  define("navigator", navigator);
  define("scheduler", scheduler);
  define("IdentityTransformStream", IdentityTransformStream);
  define("FixedLengthStream", FixedLengthStream);
  define("HTMLRewriter", HTMLRewriter);
  define("caches", opts.caches);
  define("self", globalThis);
  define("console", createConsole(opts.appName));
  installIteratorHelpers();
  if (opts.binaryTypeBlob) (WebSocket.prototype as { binaryType: string }).binaryType = "blob";
}
