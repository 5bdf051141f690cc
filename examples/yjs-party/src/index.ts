import { routePartykitRequest, Server, type Connection, type ConnectionContext } from "partyserver";
import { YServer } from "y-partyserver";
import * as Y from "yjs";

interface Env {
  SharedDoc: DurableObjectNamespace<SharedDoc>;
  Relay: DurableObjectNamespace<Relay>;
}

/**
 * One collaborative Yjs document per room (`/parties/shared-doc/<room>`), synced with
 * y-partyserver's protocol. The document is kept in the room's own SQLite database as a single Yjs
 * update: loaded when the room starts, rewritten a moment after edits stop (y-partyserver debounces
 * `onSave`). `GET /parties/shared-doc/<room>` returns that saved update.
 */
export class SharedDoc extends YServer<Env> {
  async onLoad(): Promise<void> {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS document (id INTEGER PRIMARY KEY CHECK (id = 1), state BLOB NOT NULL)");
    const saved = this.savedState();
    if (saved) Y.applyUpdate(this.document, saved);
  }

  async onSave(): Promise<void> {
    const state = Y.encodeStateAsUpdate(this.document);
    this.ctx.storage.sql.exec(
      "INSERT INTO document (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
      state,
    );
  }

  onRequest(request: Request): Response {
    if (request.method !== "GET") return new Response("Method not allowed\n", { status: 405 });
    const saved = this.savedState();
    if (!saved) return new Response("Nothing saved yet\n", { status: 404 });
    return new Response(saved, { headers: { "content-type": "application/octet-stream" } });
  }

  private savedState(): Uint8Array | null {
    const row = this.ctx.storage.sql.exec<{ state: ArrayBuffer }>("SELECT state FROM document WHERE id = 1").toArray()[0];
    return row ? new Uint8Array(row.state) : null;
  }
}

/**
 * A plain partyserver room (`/parties/relay/<room>`) on hibernatable WebSockets: greets each new
 * connection with its id and relays every message to the other connections in the room.
 * `GET /parties/relay/<room>` says who is online.
 */
export class Relay extends Server<Env> {
  static options = { hibernate: true };

  /** When this instance started; an idle room is evicted and wakes as a new instance. */
  readonly awakeSince = Date.now();

  onConnect(connection: Connection, ctx: ConnectionContext): void {
    const user = new URL(ctx.request.url).searchParams.get("user") ?? "anonymous";
    connection.setState({ user });
    connection.send(JSON.stringify({ type: "welcome", id: connection.id, room: this.name }));
  }

  onMessage(connection: Connection<{ user: string }>, message: string | ArrayBuffer | ArrayBufferView): void {
    if (typeof message !== "string") return;
    const from = connection.state?.user ?? "anonymous";
    this.broadcast(JSON.stringify({ type: "message", from, text: message }), [connection.id]);
  }

  onRequest(): Response {
    const online = [...this.getConnections<{ user: string }>()].map((c) => c.state?.user ?? "anonymous");
    return Response.json({ room: this.name, online, awakeSince: this.awakeSince });
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    return (await routePartykitRequest(request, env)) ?? new Response("Not found\n", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
