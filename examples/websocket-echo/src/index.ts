/**
 * A WebSocket echo server in a plain Worker: `/ws` upgrades and sends every message back;
 * `/` serves a page that connects to it. Run it with `npx ledge dev examples/websocket-echo`.
 */
import page from "./page.html";

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/ws") {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("Expected a WebSocket upgrade\n", { status: 426, headers: { upgrade: "websocket" } });
      }
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener("message", (event) => server.send(event.data));
      // Complete the closing handshake the client started.
      server.addEventListener("close", () => server.close());
      return new Response(null, { status: 101, webSocket: client });
    }
    if (url.pathname === "/") {
      return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    return new Response("Not found\n", { status: 404 });
  },
};
