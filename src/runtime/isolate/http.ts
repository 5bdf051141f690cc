/**
 * Converting Requests and Responses to plain data for `postMessage` and back, inside an isolate.
 */
import type { HeaderList, SerializedRequest, SerializedResponse, WebSocketRef } from "../../shared/wire.js";
import { kRawBody, Request, Response } from "./web.js";
import { createSocket, serverEndOf, WebSocket } from "./websocket.js";

export function headerList(headers: Headers): HeaderList {
  const out: HeaderList = [];
  let cookies = false;
  headers.forEach((value, name) => {
    if (name === "set-cookie") cookies = true;
    else out.push(name, value);
  });
  if (cookies) for (const cookie of headers.getSetCookie()) out.push("set-cookie", cookie);
  return out;
}

export function headerPairs(flat: HeaderList): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** The fixed part of `request.cf` for requests from this node's front door. */
let cfBase: Record<string, unknown> = {};
export function setCfBase(base: Record<string, unknown>): void {
  cfBase = base;
}

export function toRequest(s: SerializedRequest, signal?: AbortSignal): Request {
  const hasBody = s.body !== null && s.method !== "GET" && s.method !== "HEAD";
  // Appending the headers after construction skips the init dictionary's conversion of the list,
  // about 1 µs of the ~6 µs a Request costs; the Request's headers are still mutable here.
  const req =
    s.method === "GET" && !signal ? new Request(s.url) : new Request(s.url, { method: s.method, body: hasBody ? s.body : null, signal });
  const h = req.headers;
  for (let i = 0; i < s.headers.length; i += 2) h.append(s.headers[i]!, s.headers[i + 1]!);
  if (s.cf) req.cf = s.cf;
  else if (s.cfDyn) req.cf = { ...cfBase, httpProtocol: s.cfDyn[0], clientAcceptEncoding: s.cfDyn[1] };
  return req;
}

export async function fromRequest(req: globalThis.Request): Promise<SerializedRequest> {
  const hasBody = req.body !== null && req.method !== "GET" && req.method !== "HEAD";
  return {
    method: req.method,
    url: req.url,
    headers: headerList(req.headers),
    body: hasBody ? await req.arrayBuffer() : null,
    cf: (req as Request).cf as Record<string, unknown> | undefined,
  };
}

/** Bridges a WebSocket end leaving this isolate and returns the reference the host uses. */
export type SocketExporter = (client: WebSocket) => WebSocketRef;

/** A WebSocket end that lives in another isolate; it can only be passed on in another Response. */
export const kRemoteRef = Symbol("ledge.ws.remoteRef");

export function remoteSocket(ref: WebSocketRef): WebSocket {
  const ws = createSocket() as WebSocket & { [kRemoteRef]?: WebSocketRef };
  ws[kRemoteRef] = ref;
  ws.markTransferred();
  return ws;
}

export function exportSocket(ws: WebSocket, exporter: SocketExporter): WebSocketRef {
  const remote = (ws as WebSocket & { [kRemoteRef]?: WebSocketRef })[kRemoteRef];
  if (remote) return remote;
  if (!serverEndOf(ws)) throw new TypeError("The webSocket of a 101 Response must be the client end of a WebSocketPair");
  if (ws.transferred || ws.accepted) throw new TypeError("This WebSocket has already been accepted or returned");
  return exporter(ws);
}

/**
 * Head of a response plus its body if it is available without reading a stream. `stream` tells
 * the caller to pump `res.body`.
 */
export function responseHead(res: globalThis.Response, exporter: SocketExporter): SerializedResponse {
  const r = res as Response;
  const ws = r.webSocket ?? null;
  const out: SerializedResponse = {
    status: res.status,
    statusText: res.statusText,
    headers: headerList(res.headers),
    body: null,
    stream: false,
  };
  if (ws) {
    out.webSocket = exportSocket(ws, exporter);
    return out;
  }
  const raw = r[kRawBody];
  if (raw !== undefined && !res.bodyUsed) {
    if (raw === null || typeof raw === "string") out.body = raw;
    else if (raw instanceof ArrayBuffer) out.body = raw.slice(0);
    else out.body = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
  } else if (res.body !== null) {
    out.stream = true;
  }
  return out;
}

/** Reads a whole response into a SerializedResponse (for Durable Object calls across isolates). */
export async function fromResponse(res: globalThis.Response, exporter: SocketExporter): Promise<SerializedResponse> {
  const head = responseHead(res, exporter);
  if (head.stream) {
    head.body = await res.arrayBuffer();
    head.stream = false;
  }
  return head;
}

export function toResponse(s: SerializedResponse): Response {
  const nullBody = s.status === 101 || s.status === 204 || s.status === 205 || s.status === 304;
  return new Response(nullBody ? null : s.body, {
    status: s.status,
    statusText: s.statusText,
    headers: headerPairs(s.headers),
    webSocket: s.webSocket ? remoteSocket(s.webSocket) : undefined,
  });
}
