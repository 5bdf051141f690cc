/**
 * Client WebSocket connections held by the front door, bridged to the isolate that owns the
 * server end. Holding them here (not in the isolate) is what lets a Durable Object hibernate with
 * its sockets open, and lets an isolate be replaced without the node losing track of them.
 */
import type { WebSocket as WsSocket } from "ws";
import type { IsolateHandle } from "./isolate-handle.js";

interface Bridged {
  ws: WsSocket;
  isolate: IsolateHandle;
}

/** Frames an isolate sent before the front door finished the upgrade, kept briefly. */
interface Early {
  frames: { data: string | ArrayBuffer }[];
  close?: { code?: number; reason?: string };
  at: number;
}

const EARLY_TTL_MS = 30_000;

export class SocketBridge {
  readonly #sockets = new Map<string, Bridged>();
  readonly #early = new Map<string, Early>();

  get size(): number {
    return this.#sockets.size;
  }

  attach(wsId: string, ws: WsSocket, isolate: IsolateHandle): void {
    this.#sockets.set(wsId, { ws, isolate });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const b = this.#sockets.get(wsId);
      if (!b) return;
      if (isBinary) {
        const ab = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
        b.isolate.post({ t: "ws-message", wsId, data: ab }, [ab]);
      } else {
        b.isolate.post({ t: "ws-message", wsId, data: data.toString("utf8") });
      }
    });
    ws.on("close", (code: number, reason: Buffer) => {
      const b = this.#sockets.get(wsId);
      this.#sockets.delete(wsId);
      b?.isolate.post({ t: "ws-close", wsId, code, reason: reason.toString("utf8"), wasClean: code !== 1006 });
    });
    ws.on("error", (err: Error) => {
      // A malformed frame: `ws` closes this connection with the matching code (1002, 1007, 1009);
      // the object hears about it through webSocketError and then webSocketClose.
      this.#sockets.get(wsId)?.isolate.post({ t: "ws-error", wsId, message: err.message });
    });
    const early = this.#early.get(wsId);
    if (early) {
      this.#early.delete(wsId);
      for (const f of early.frames) ws.send(f.data);
      if (early.close) this.close(wsId, early.close.code, early.close.reason);
    }
  }

  send(wsId: string, data: string | ArrayBuffer): void {
    const b = this.#sockets.get(wsId);
    if (b) {
      if (b.ws.readyState === 1) b.ws.send(typeof data === "string" ? data : Buffer.from(data));
      return;
    }
    this.#earlyOf(wsId).frames.push({ data });
  }

  close(wsId: string, code?: number, reason?: string): void {
    const b = this.#sockets.get(wsId);
    if (!b) {
      this.#earlyOf(wsId).close = { code, reason };
      return;
    }
    if (b.ws.readyState === 0 || b.ws.readyState === 1) b.ws.close(code ?? 1000, reason);
  }

  /** Closes every socket bridged to an isolate that went away. */
  closeFor(isolate: IsolateHandle, code: number, reason: string): void {
    for (const [wsId, b] of this.#sockets) {
      if (b.isolate !== isolate) continue;
      this.#sockets.delete(wsId);
      if (b.ws.readyState === 0 || b.ws.readyState === 1) b.ws.close(code, reason);
    }
  }

  closeAll(code: number, reason: string): void {
    for (const b of this.#sockets.values()) b.ws.close(code, reason);
    this.#sockets.clear();
  }

  #earlyOf(wsId: string): Early {
    let e = this.#early.get(wsId);
    if (!e) {
      const now = Date.now();
      for (const [k, v] of this.#early) if (now - v.at > EARLY_TTL_MS) this.#early.delete(k);
      e = { frames: [], at: now };
      this.#early.set(wsId, e);
    }
    return e;
  }
}
