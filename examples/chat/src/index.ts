import { DurableObject } from "cloudflare:workers";
import page from "./page.html";

interface Env {
  ROOMS: DurableObjectNamespace<ChatRoom>;
}

interface ChatMessage {
  user: string;
  message: string;
  timestamp: number;
}

const HISTORY_ON_JOIN = 100;
const MAX_MESSAGE_CHARS = 4096;

/**
 * One chat room. Clients connect over WebSockets accepted with the hibernation API, so an idle
 * room is evicted from memory while its sockets stay open. Messages are stored in the room's own
 * SQLite database; a newcomer first receives the recent history.
 */
export class ChatRoom extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, message TEXT NOT NULL, timestamp INTEGER NOT NULL)",
    );
    // Answer keep-alive pings without waking the room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/history")) return Response.json(this.history(HISTORY_ON_JOIN));
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("Expected a WebSocket upgrade", { status: 426 });
    }
    const user = (url.searchParams.get("user") ?? "anonymous").slice(0, 64);
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ user });
    for (const m of this.history(HISTORY_ON_JOIN)) server.send(JSON.stringify(m));
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    if (typeof data !== "string") return;
    const { user } = ws.deserializeAttachment() as { user: string };
    const text = data.slice(0, MAX_MESSAGE_CHARS);
    const msg: ChatMessage = { user, message: text, timestamp: Date.now() };
    this.ctx.storage.sql.exec("INSERT INTO messages (user, message, timestamp) VALUES (?, ?, ?)", msg.user, msg.message, msg.timestamp);
    const payload = JSON.stringify(msg);
    for (const peer of this.ctx.getWebSockets()) {
      try {
        peer.send(payload);
      } catch {
        // The peer is closing; it will be gone from getWebSockets() shortly.
      }
    }
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  history(limit: number): ChatMessage[] {
    return this.ctx.storage.sql
      .exec<ChatMessage>("SELECT user, message, timestamp FROM (SELECT * FROM messages ORDER BY id DESC LIMIT ?) ORDER BY id", limit)
      .toArray();
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts.length === 0) return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
    const [room, action] = parts;
    if (parts.length === 2 && (action === "websocket" || action === "history") && /^[\w-]{1,64}$/.test(room!)) {
      return env.ROOMS.getByName(room!).fetch(request);
    }
    return new Response("Not found\n", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
