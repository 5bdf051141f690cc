/**
 * The node's front door: `node:http` for requests and `ws` for WebSocket upgrades, in the main
 * thread. It turns each request into plain data for an app isolate, writes the isolate's answer
 * back, and keeps client WebSockets open on the isolate's behalf (src/runtime/sockets.ts).
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { WebSocketServer } from "ws";
import type { AppHost } from "../runtime/app-host.js";
import type { FetchSink, IsolateHandle } from "../runtime/isolate-handle.js";
import { newRequestId, type LedgeNode } from "../runtime/node.js";
import type { HeaderList, SerializedError, SerializedRequest, SerializedResponse } from "../shared/wire.js";
import { AccessLog } from "./access-log.js";
import { errorBody, refusalBody } from "./error-page.js";
import { answerClientError, HOP_BY_HOP, lingerAfterAnswer, refuseRaw, validHost, writeRaw } from "./http-guards.js";

export interface FrontDoorOptions {
  node: LedgeNode;
  host: string;
  port: number;
  dev: boolean;
  colo: string;
  /** Largest request body accepted, in bytes (default 100 MiB, Cloudflare's Free plan). */
  maxBodyBytes?: number;
  /** Largest WebSocket message accepted, in bytes (default 32 MiB, the Durable Objects limit). */
  maxWsMessageBytes?: number;
  accessLog?: AccessLog;
  /** Answers `/__scheduled?cron=` (wrangler dev --test-scheduled). */
  testScheduled?: boolean;
  /** Time for a request's headers to arrive before a 408, in ms (default 60,000, node:http's; at least 1). */
  headersTimeoutMs?: number;
}

const NO_BODY = new Set([101, 204, 205, 304]);
const BAD_HOST = "The request's Host header is missing or not a valid host";
const kProtocol = Symbol("ledge.wsProtocol");
const kExtraHeaders = Symbol("ledge.wsHeaders");

type UpgradeReq = IncomingMessage & { [kProtocol]?: string; [kExtraHeaders]?: string[] };

export class FrontDoor {
  readonly server: http.Server;
  /** Loaded on first use (or in the background after listen): `ws` costs tens of ms to import. */
  #wss: Promise<WebSocketServer> | null = null;
  readonly #opts: FrontDoorOptions;
  readonly #log: AccessLog;
  readonly #maxBody: number;
  /**
   * Connections that have not sent a request yet (browsers and HTTP clients open spare ones).
   * node:http counts them neither idle nor busy, so `server.close()` would wait for them until
   * its headers timeout (60 s); close() ends them instead.
   */
  readonly #unused = new Set<Duplex>();

  constructor(opts: FrontDoorOptions) {
    this.#opts = opts;
    this.#log = opts.accessLog ?? new AccessLog(process.stdout);
    this.#maxBody = opts.maxBodyBytes ?? 100 * 1024 * 1024;
    const timeouts = opts.headersTimeoutMs
      ? { headersTimeout: opts.headersTimeoutMs, connectionsCheckingInterval: Math.min(30_000, opts.headersTimeoutMs) }
      : {};
    // requireHostHeader off: a missing Host is refused in #onRequest with a body, like a bad one.
    this.server = http.createServer({ keepAliveTimeout: 65_000, requireHostHeader: false, ...timeouts }, (req, res) => this.#onRequest(req, res));
    this.server.on("connection", (socket: Duplex) => {
      this.#unused.add(socket);
      socket.once("close", () => this.#unused.delete(socket));
    });
    this.server.on("upgrade", (req, socket, head) => {
      this.#unused.delete(socket);
      this.#onUpgrade(req, socket, head);
    });
    this.server.on("clientError", answerClientError);
  }

  #webSocketServer(): Promise<WebSocketServer> {
    this.#wss ??= import("ws").then(({ WebSocketServer }) => {
      const wss = new WebSocketServer({
        noServer: true,
        maxPayload: this.#opts.maxWsMessageBytes ?? 32 * 1024 * 1024,
        perMessageDeflate: false,
        handleProtocols: (_protocols, req) => (req as UpgradeReq)[kProtocol] ?? false,
      });
      wss.on("headers", (headers, req) => {
        for (const h of (req as UpgradeReq)[kExtraHeaders] ?? []) headers.push(h);
      });
      return wss;
    });
    return this.#wss;
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.#opts.port, this.#opts.host, () => {
        this.server.off("error", reject);
        resolve(this.server.address() as AddressInfo);
        setTimeout(() => void this.#webSocketServer(), 100).unref();
      });
    });
  }

  async close(): Promise<void> {
    this.#log.flush();
    for (const socket of this.#unused) socket.destroy();
    this.server.closeIdleConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  #appFor(req: IncomingMessage): AppHost | undefined {
    const apps = this.#opts.node.apps;
    if (apps.size <= 1) return apps.values().next().value;
    const host = (req.headers.host ?? "").split(":")[0]!;
    for (const app of apps.values()) {
      for (const r of app.config?.routes ?? []) {
        const pattern = r.pattern.split("/")[0]!;
        if (pattern === host || (pattern.startsWith("*") && host.endsWith(pattern.slice(1)))) return app;
      }
    }
    return apps.values().next().value;
  }

  #serialize(req: IncomingMessage, reqId: string, body: ArrayBuffer | null): SerializedRequest {
    const raw = req.rawHeaders;
    const headers: HeaderList = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (name === "cf-connecting-ip" || name === "cf-ray" || name === "cf-visitor") continue;
      headers.push(name, raw[i + 1]!);
    }
    let ip = req.socket.remoteAddress ?? "";
    if (ip.startsWith("::ffff:")) ip = ip.slice(7);
    headers.push("cf-connecting-ip", ip, "cf-ray", `${reqId}-${this.#opts.colo}`, "cf-visitor", '{"scheme":"http"}', "x-forwarded-proto", "http");
    return {
      method: req.method ?? "GET",
      url: `http://${req.headers.host ?? `${this.#opts.host}:${this.#opts.port}`}${req.url ?? "/"}`,
      headers,
      body,
      cfDyn: [req.httpVersion === "1.1" ? "HTTP/1.1" : `HTTP/${req.httpVersion}`, req.headers["accept-encoding"] ?? ""],
    };
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#unused.delete(req.socket);
    const t0 = performance.now();
    const reqId = newRequestId();
    const path = req.url ?? "/";
    const log = (status: number) => this.#log.line(req.method ?? "GET", path, status, performance.now() - t0, reqId);
    if (!hostAcceptable(req)) return this.#refuse(req, res, 400, refusalBody(400, BAD_HOST), log);
    const app = this.#appFor(req);
    if (!app) {
      res.writeHead(503, { "content-type": "text/plain" }).end("No app is deployed on this node\n");
      return log(503);
    }
    if (this.#opts.testScheduled && (path.startsWith("/__scheduled") || path.startsWith("/cdn-cgi/handler/scheduled"))) {
      return void this.#scheduled(app, req, res, reqId).then(log);
    }
    const method = req.method ?? "GET";
    if (method === "GET" || method === "HEAD") return this.#dispatch(app, req, res, reqId, null, log);
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > this.#maxBody) return this.#tooLarge(req, res, reqId, log);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > this.#maxBody) {
        req.removeAllListeners("data");
        this.#tooLarge(req, res, reqId, log);
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (size > this.#maxBody) return;
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const body = size === 0 && req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined
        ? null
        : (buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
      this.#dispatch(app, req, res, reqId, body, log);
    });
  }

  #tooLarge(req: IncomingMessage, res: ServerResponse, reqId: string, log: (s: number) => void): void {
    if (res.headersSent) return;
    const msg = errorBody(413, { name: "Error", message: `Request body is larger than ${this.#maxBody} bytes` }, reqId, false);
    this.#refuse(req, res, 413, msg, log);
  }

  /** Answers `req` without reading its body (the Worker never sees it) and closes the connection. */
  #refuse(req: IncomingMessage, res: ServerResponse, status: number, body: string, log: (s: number) => void): void {
    lingerAfterAnswer(req);
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body), connection: "close" }).end(body);
    log(status);
  }

  #dispatch(app: AppHost, req: IncomingMessage, res: ServerResponse, reqId: string, body: ArrayBuffer | null, log: (s: number) => void): void {
    const ex = new HttpExchange(this.#opts, app, req, res, reqId, log);
    const handle = app.fetch(this.#serialize(req, reqId, body), reqId, ex);
    if (handle) {
      ex.isolate = handle.isolate;
      ex.rid = handle.rid;
    }
  }

  async #scheduled(app: AppHost, req: IncomingMessage, res: ServerResponse, reqId: string): Promise<number> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const cron = url.searchParams.get("cron") ?? "";
    const time = Number(url.searchParams.get("time") ?? Date.now());
    const r = await app.run({ t: "scheduled", rid: 0, reqId, cron, scheduledTime: time });
    const status = r.ok ? 200 : 500;
    if (url.searchParams.get("format") === "json") {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ outcome: r.ok ? "ok" : "exception", noRetry: !!r.noRetry }));
    } else {
      res.writeHead(status, { "content-type": "text/plain" }).end(r.ok ? "Ran scheduled event\n" : `scheduled() failed: ${r.error?.message}\n`);
    }
    return status;
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => {});
    const t0 = performance.now();
    const reqId = newRequestId();
    const log = (status: number) => this.#log.line(req.method ?? "GET", req.url ?? "/", status, performance.now() - t0, reqId);
    if (!hostAcceptable(req)) {
      refuseRaw(socket, 400, BAD_HOST);
      return log(400);
    }
    const app = this.#appFor(req);
    if (!app || (req.headers.upgrade ?? "").toLowerCase() !== "websocket") {
      refuseRaw(socket, 400, app ? "Only WebSocket upgrades are supported" : "No app is deployed on this node");
      return log(400);
    }
    let answered: SerializedResponse | null = null;
    const chunks: Buffer[] = [];
    const sink: FetchSink = {
      response: (r) => {
        answered = r;
        if (r.status === 101 && r.webSocket) {
          const ref = r.webSocket;
          const iso = this.#opts.node.isolates.get(ref.isolate);
          if (!iso) {
            writeRaw(socket, 502, "Bad Gateway", [], Buffer.from("WebSocket owner is gone\n"));
            return log(502);
          }
          const ureq = req as UpgradeReq;
          const extra: string[] = [];
          for (let i = 0; i < r.headers.length; i += 2) {
            const n = r.headers[i]!;
            const v = r.headers[i + 1]!;
            if (n === "sec-websocket-protocol") ureq[kProtocol] = v.split(",")[0]!.trim();
            else if (!HOP_BY_HOP.has(n) && !n.startsWith("sec-websocket")) extra.push(`${n}: ${v}`);
          }
          ureq[kExtraHeaders] = extra;
          void this.#webSocketServer().then((wss) =>
            wss.handleUpgrade(req, socket, head, (ws) => this.#opts.node.sockets.attach(ref.wsId, ws, iso)),
          );
          return log(101);
        }
        if (!r.stream) {
          writeRaw(socket, r.status, r.statusText, r.headers, r.body === null ? null : Buffer.from(r.body as string));
          log(r.status);
        }
      },
      chunk: (data) => void chunks.push(Buffer.from(data)),
      end: () => {
        const r = answered!;
        writeRaw(socket, r.status, r.statusText, r.headers, Buffer.concat(chunks));
        log(r.status);
      },
      fail: (err: SerializedError, st: number) => {
        writeRaw(socket, st, "Error", ["content-type", "text/plain; charset=utf-8"], Buffer.from(errorBody(st, err, reqId, this.#opts.dev)));
        this.#opts.node.log(`[${app.name} ${reqId}] WebSocket upgrade ${req.url} → ${st}: ${err.message}`);
        log(st);
      },
    };
    app.fetch(this.#serialize(req, reqId, null), reqId, sink);
  }
}

/**
 * One HTTP request in flight: receives the isolate's answer and writes it to the client. A class
 * rather than a bag of closures, because one is allocated per request on the node's busiest thread.
 */
class HttpExchange implements FetchSink {
  status = 0;
  done = false;
  isolate: IsolateHandle | null = null;
  rid = 0;
  readonly #head: boolean;
  /**
   * The Content-Length a streamed body must match, or -1 (none declared, or no body is sent).
   * A body that overruns or falls short of it would leave the client reading the next response
   * at the wrong offset, so either ends the connection instead.
   */
  #declared = -1;
  #sent = 0;
  constructor(
    readonly opts: FrontDoorOptions,
    readonly app: AppHost,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly reqId: string,
    readonly log: (status: number) => void,
  ) {
    this.#head = req.method === "HEAD";
  }

  response(r: SerializedResponse): void {
    this.status = r.status;
    if (r.status === 101) {
      // A WebSocket answer to a plain HTTP request (no Upgrade header) cannot be honoured.
      this.fail({ name: "TypeError", message: "Worker returned a WebSocket response to a request that was not a WebSocket upgrade" }, 500);
      return;
    }
    const res = this.res;
    const flat = flatHeaders(r.headers);
    if (!r.stream) {
      const buf = NO_BODY.has(r.status) || r.body === null ? null : typeof r.body === "string" ? Buffer.from(r.body) : Buffer.from(r.body);
      if (buf) flat.push("content-length", String(buf.length));
      else if (!NO_BODY.has(r.status)) flat.push("content-length", "0");
      res.writeHead(r.status, r.statusText || undefined, flat);
      res.end(this.#head || !buf ? undefined : buf);
      this.done = true;
      this.log(r.status);
      return;
    }
    const at = r.headers.indexOf("content-length");
    const declared = at >= 0 && at % 2 === 0 ? parseLength(r.headers[at + 1]!) : -1;
    // A value that is not a plain length is dropped: the body goes out chunked instead.
    if (declared >= 0) {
      flat.push("content-length", r.headers[at + 1]!);
      if (!this.#head && !NO_BODY.has(r.status)) this.#declared = declared;
    }
    res.writeHead(r.status, r.statusText || undefined, flat);
    if (this.#head) res.end();
    // Only streamed answers need to hear that the client left: the isolate stops producing.
    res.on("close", () => {
      if (!this.done && this.isolate) this.isolate.cancel(this.rid);
    });
  }

  chunk(data: ArrayBuffer): void {
    const bytes = data.byteLength;
    if (this.#declared >= 0 && (this.#sent += bytes) > this.#declared) return this.#abandon("longer than");
    const ack = () => {
      if (!this.done && this.isolate) this.isolate.post({ t: "ack", rid: this.rid, bytes });
    };
    if (this.#head) ack();
    // The callback runs once the socket took the bytes: the isolate's window moves on only then.
    else this.res.write(Buffer.from(data), ack);
  }

  end(err?: SerializedError): void {
    if (this.done) return;
    if (!err && this.#sent < this.#declared) return this.#abandon("shorter than");
    this.done = true;
    if (err) this.res.destroy();
    else this.res.end();
    this.log(this.status);
  }

  /**
   * The streamed body does not match its Content-Length: the client gets what was sent so far
   * (the head at least, so it sees a cut-off body rather than a silent hang-up) and then the
   * connection ends; nothing more of this body, and no later response, goes on it.
   */
  #abandon(how: string): void {
    this.done = true;
    this.isolate?.cancel(this.rid);
    const socket = this.res.socket;
    if (socket) {
      this.res.flushHeaders();
      socket.destroySoon();
    } else {
      // Still queued behind an earlier response: destroyed when it gets the socket, before
      // anything of it is written.
      this.res.destroy();
    }
    const req = this.req;
    this.opts.node.log(`[${this.app.name} ${this.reqId}] ${req.method} ${req.url}: the response body is ${how} its Content-Length (${this.#declared} bytes); connection closed`);
    this.log(this.status);
  }

  fail(err: SerializedError, st: number): void {
    this.done = true;
    this.status = st;
    const res = this.res;
    if (res.headersSent) {
      res.destroy();
    } else {
      const text = errorBody(st, err, this.reqId, this.opts.dev);
      res.writeHead(st, { "content-type": "text/plain; charset=utf-8", "cf-ray": `${this.reqId}-${this.opts.colo}` }).end(text);
    }
    if (st >= 500) this.opts.node.log(`[${this.app.name} ${this.reqId}] ${this.req.method} ${this.req.url} → ${st}: ${err.name}: ${err.message}`);
    this.log(st);
  }
}

/** HTTP/1.1 requires a Host; HTTP/1.0 may omit it (the node's own address stands in). */
function hostAcceptable(req: IncomingMessage): boolean {
  const host = req.headers.host;
  return host === undefined ? req.httpVersionMinor === 0 : validHost(host);
}

/** A Content-Length value as a number, or -1 unless it is plain decimal digits. */
function parseLength(value: string): number {
  return /^[0-9]{1,15}$/.test(value) ? Number(value) : -1;
}

function flatHeaders(list: HeaderList): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i += 2) {
    if (HOP_BY_HOP.has(list[i]!)) continue;
    out.push(list[i]!, list[i + 1]!);
  }
  return out;
}
