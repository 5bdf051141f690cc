/**
 * The front door's defences against malformed or oversized HTTP: which Host headers reach a
 * Worker, how parse errors are answered, and how a connection whose request we refused is closed
 * without the client losing our answer. A well-formed request costs one Set lookup of its Host.
 */
import http, { type IncomingMessage } from "node:http";
import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { refusalBody } from "./error-page.js";

/** Response headers that describe one connection or one framing, so the front door sets them itself. */
export const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "content-length", "proxy-connection"]);

/**
 * How long a refused connection keeps reading (and discarding) what the client still sends, in ms.
 * Closing a socket with unread input makes the kernel send a reset, and a client that is still
 * uploading then fails its next write and drops our answer unread; by the end of this, a client
 * that reads while it writes has seen the answer and stopped.
 */
const LINGER_MS = 2_000;

/**
 * RFC 9110's Host: an IP literal in brackets or a reg-name, then an optional port. Everything else
 * (spaces, `@`, `/`, `?`, `#`, `\`, unclosed brackets, non-ASCII) would change the URL the Worker
 * sees or fail to parse in the isolate.
 */
const HOST_SYNTAX = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]*)?$/;

/** Hosts already checked, so a request for a known host costs one Set lookup. */
const knownHosts = new Set<string>();
const KNOWN_HOSTS_MAX = 256;

/**
 * Whether `host` is a Host header the Worker can be given as its URL's authority, e.g.
 * `validHost("localhost:8787") === true`, `validHost("a b") === false`.
 */
export function validHost(host: string): boolean {
  if (knownHosts.has(host)) return true;
  if (!HOST_SYNTAX.test(host)) return false;
  // The syntax allows what the URL parser still refuses: a port over 65535, a bad IPv4 or IPv6
  // address, a percent-escape that decodes to a forbidden character.
  try {
    new URL(`http://${host}/`);
  } catch {
    return false;
  }
  if (knownHosts.size >= KNOWN_HOSTS_MAX) knownHosts.clear();
  knownHosts.add(host);
  return true;
}

/**
 * Writes a whole response on a raw socket and ends it. For answers outside `ServerResponse`:
 * parse errors, and upgrade requests that do not become WebSockets.
 */
export function writeRaw(socket: Duplex, status: number, statusText: string, headers: readonly string[], body: Buffer | null): void {
  const lines = [`HTTP/1.1 ${status} ${statusText || http.STATUS_CODES[status] || ""}`];
  for (let i = 0; i < headers.length; i += 2) if (!HOP_BY_HOP.has(headers[i]!)) lines.push(`${headers[i]}: ${headers[i + 1]}`);
  lines.push(`content-length: ${body?.length ?? 0}`, "connection: close", "", "");
  socket.end(body ? Buffer.concat([Buffer.from(lines.join("\r\n")), body]) : lines.join("\r\n"));
}

/** Writes a short text answer (`refusalBody`) on a raw socket and ends it. */
export function refuseRaw(socket: Duplex, status: number, message: string): void {
  writeRaw(socket, status, "", ["content-type", "text/plain; charset=utf-8"], Buffer.from(refusalBody(status, message)));
}

/**
 * The server's `clientError` handler: a request node:http could not parse gets an answer with a
 * body, as Workers gives one (431 for headers over the limit, 408 for headers that did not arrive
 * in time, 400 otherwise), and the connection closes.
 */
export function answerClientError(err: NodeJS.ErrnoException, duplex: Duplex): void {
  const socket = duplex as Socket;
  // node:http reports every further chunk from the same client as another parse error: the
  // answer is on its way and the connection is lingering until the client stops.
  if (socket.writableEnded && !socket.destroyed) return;
  const code = err.code ?? "";
  // A response under way on this connection (an earlier pipelined request) would be corrupted by
  // an answer written into it, and a reset or broken pipe leaves nobody to answer.
  const inFlight = (socket as Socket & { _httpMessage?: unknown })._httpMessage;
  if (!socket.writable || inFlight || !(code.startsWith("HPE_") || code === "ERR_HTTP_REQUEST_TIMEOUT")) {
    socket.destroy();
    return;
  }
  if (code === "HPE_HEADER_OVERFLOW") refuseRaw(socket, 431, `The request's headers are larger than ${http.maxHeaderSize} bytes`);
  else if (code === "HPE_CHUNK_EXTENSIONS_OVERFLOW") refuseRaw(socket, 413, "The request's chunk extensions are too large");
  else if (code === "ERR_HTTP_REQUEST_TIMEOUT") refuseRaw(socket, 408, "The request did not arrive in time");
  else refuseRaw(socket, 400, `Malformed HTTP request (${code})`);
  closeWhenClientStops(socket, null);
}

/**
 * Call before answering `req` without reading its body (a refusal): once the answer is out,
 * node:http would destroy the socket at once, which resets a client still sending that body.
 * Instead the connection half-closes and discards input until the body ends, the client closes,
 * or LINGER_MS pass.
 */
export function lingerAfterAnswer(req: IncomingMessage): void {
  const socket = req.socket;
  // node:http ends a connection after its last response with destroySoon(); only this socket's
  // copy is replaced.
  socket.destroySoon = () => {
    socket.end();
    closeWhenClientStops(socket, req);
  };
}

function closeWhenClientStops(socket: Socket, req: IncomingMessage | null): void {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    // Destroys once our own answer and FIN are out, never before.
    Socket.prototype.destroySoon.call(socket);
  };
  const timer = setTimeout(close, LINGER_MS);
  timer.unref();
  socket.once("end", close);
  socket.once("close", () => clearTimeout(timer));
  if (req) {
    if (req.readableEnded) return close();
    req.once("end", close);
  }
}
