/**
 * WebSocket broadcast load client, run as its own process so its CPU is not the driver's:
 *   node bench/clients/ws-broadcast.mjs '{"url":"ws://…","clients":100,"messages":200,"burst":500}'
 *
 * Opens `clients` sockets to one room; client 0 is the sender, and the room sends every message to
 * every socket, the sender's own included. Two phases:
 *   latency: `messages` messages one at a time; for each, the time from send to its receipt by the
 *            last of the clients;
 *   burst:   `burst` messages sent back to back; deliveries/s until every client has all of them.
 * Prints one JSON line on stdout; on failure, a message on stderr and exit code 1. Every wait is
 * bounded.
 */
import WebSocket from "ws";

const opts = { clients: 100, messages: 200, burst: 500, connectTimeoutMs: 15_000, phaseTimeoutMs: 30_000, ...JSON.parse(process.argv[2] ?? "{}") };

/** Resolves when `done()` returns true (checked on every message), rejects after `ms`. */
function waitUntil(label, ms, done) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`${label}: not complete after ${ms} ms`));
    }, ms);
    const check = () => {
      if (!done()) return;
      clearTimeout(timer);
      waiters.delete(check);
      resolve(performance.now());
    };
    waiters.add(check);
    check();
  });
}
const waiters = new Set();
const notify = () => {
  for (const w of [...waiters]) w();
};

/** Receipts per message text, across all clients. */
const receipts = new Map();
let burstDeliveries = 0;

function connect(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(opts.url, { perMessageDeflate: false });
    ws.binaryType = "nodebuffer";
    ws.once("open", () => resolve(ws));
    ws.once("error", (err) => reject(new Error(`client ${i}: ${err.message}`)));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`client ${i}: the upgrade was answered with HTTP ${res.statusCode}`)));
    ws.on("message", (data) => {
      const text = data.toString();
      if (text.startsWith("b:")) burstDeliveries++;
      else receipts.set(text, (receipts.get(text) ?? 0) + 1);
      notify();
    });
    ws.on("close", (code) => {
      closedEarly ??= `client ${i} closed with code ${code}`;
      notify();
    });
  });
}
let closedEarly = null;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function main() {
  const t = setTimeout(() => {
    process.stderr.write(`timed out connecting ${opts.clients} clients\n`);
    process.exit(1);
  }, opts.connectTimeoutMs);
  const sockets = await Promise.all(Array.from({ length: opts.clients }, (_, i) => connect(i)));
  clearTimeout(t);
  const sender = sockets[0];
  const all = () => {
    if (closedEarly) throw new Error(closedEarly);
    return true;
  };

  // Every socket must be in the room before timing starts.
  sender.send("sync");
  await waitUntil("sync", 10_000, () => all() && (receipts.get("sync") ?? 0) >= opts.clients);

  const latencies = [];
  const phaseEnd = performance.now() + opts.phaseTimeoutMs;
  for (let i = 0; i < opts.messages && performance.now() < phaseEnd; i++) {
    const text = `l:${i}`;
    const t0 = performance.now();
    sender.send(text);
    const at = await waitUntil(`message ${i}`, 10_000, () => all() && (receipts.get(text) ?? 0) >= opts.clients);
    receipts.delete(text);
    latencies.push(at - t0);
  }

  const expected = opts.burst * opts.clients;
  const b0 = performance.now();
  for (let i = 0; i < opts.burst; i++) sender.send(`b:${i}`);
  const bEnd = await waitUntil("burst", opts.phaseTimeoutMs, () => all() && burstDeliveries >= expected);
  const burstMs = bEnd - b0;

  for (const ws of sockets) ws.terminate();
  latencies.sort((a, b) => a - b);
  process.stdout.write(
    JSON.stringify({
      clients: opts.clients,
      messages: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies[latencies.length - 1],
      burstMessages: opts.burst,
      burstDeliveries: expected,
      burstMs,
      deliveriesPerS: (expected / burstMs) * 1000,
    }) + "\n",
  );
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
