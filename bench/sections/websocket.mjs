/**
 * WebSocket broadcast (issue #3): 100 clients in one room of a Durable Object that accepts them
 * with the hibernation API and sends every message to every socket. The load comes from
 * bench/clients/ws-broadcast.mjs (a separate process using `ws`): p50/p99 from send to the last
 * receipt, one message at a time, and deliveries/s in a burst.
 */
import { join } from "node:path";
import { firstLine } from "../lib/net.mjs";
import { capture, stop, track } from "../lib/procs.mjs";
import { writeProject, durableObjectToml } from "../lib/project.mjs";
import { REPO, startLedge } from "../lib/servers.mjs";
import { round } from "../lib/stats.mjs";

const TARGET_P99_MS = 10;
const CLIENTS = 100;

const WORKER = `import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  async fetch() {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
  webSocketMessage(_ws, message) {
    for (const peer of this.ctx.getWebSockets()) peer.send(message);
  }
}

export default {
  async fetch(request, env) {
    const [, route, name] = new URL(request.url).pathname.split("/");
    if (route === "room") {
      if (request.headers.get("upgrade") !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
      return env.ROOM.getByName(name).fetch(request);
    }
    return new Response("ok");
  },
};
`;

const TOML = durableObjectToml("bench-websocket", "ROOM", "Room");

export default {
  key: "websocket",
  title: "WebSocket broadcast (issue #3)",
  async run(ctx) {
    const dir = writeProject("websocket", TOML, { "src/index.js": WORKER });
    let result;
    try {
      result = await broadcast(ctx, dir);
    } catch (err) {
      const reason = err.message.split("\n")[0];
      return { figures: { skipped: reason }, rows: [{ scenario: `broadcast to ${CLIENTS} clients`, skipped: reason }] };
    }
    result.deliveriesRatio = ctx.ratio(result.deliveriesPerS);
    return {
      figures: result,
      rows: [
        {
          scenario: `broadcast to ${CLIENTS} clients, send → last receipt`,
          value: `${result.messages} msgs`,
          p50Ms: result.p50Ms,
          p99Ms: result.p99Ms,
          target: `p99 < ${TARGET_P99_MS} ms`,
          met: result.p99Ms < TARGET_P99_MS,
        },
        {
          scenario: `broadcast burst of ${result.burstMessages} msgs`,
          value: `${Math.round(result.deliveriesPerS).toLocaleString("en-US")} deliveries/s`,
          ratio: result.deliveriesRatio,
          note: `${result.burstDeliveries.toLocaleString("en-US")} deliveries in ${result.burstMs} ms`,
        },
      ],
    };
  },
};

async function broadcast(ctx, dir) {
  const server = await startLedge(dir);
  try {
    ctx.progress(`${CLIENTS} clients, one sender`);
    const url = `ws://127.0.0.1:${server.port}/room/bench`;
    const args = JSON.stringify({ url, clients: CLIENTS, messages: 200, burst: 500, phaseTimeoutMs: Math.max(30_000, ctx.opts.durationS * 3_000) });
    const child = track(process.execPath, [join(REPO, "bench", "clients", "ws-broadcast.mjs"), args]);
    const out = capture(child.stdout);
    const err = capture(child.stderr);
    const guard = setTimeout(() => void stop(child), 120_000);
    const { code } = await child.exited;
    clearTimeout(guard);
    if (code !== 0) {
      const serverSays = firstLine(server.output().trim().split("\n").slice(-1)[0]);
      throw new Error(`the client failed: ${firstLine(err.text) || `exit ${code}`}${serverSays ? ` (server: ${serverSays})` : ""}`);
    }
    const r = JSON.parse(out.text.trim().split("\n").pop());
    return {
      clients: r.clients,
      messages: r.messages,
      p50Ms: round(r.p50Ms, 2),
      p99Ms: round(r.p99Ms, 2),
      maxMs: round(r.maxMs, 2),
      burstMessages: r.burstMessages,
      burstDeliveries: r.burstDeliveries,
      burstMs: round(r.burstMs, 1),
      deliveriesPerS: round(r.deliveriesPerS, 0),
    };
  } finally {
    await server.stop();
  }
}
