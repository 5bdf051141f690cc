/**
 * Small HTTP helpers on `node:http` with no connection reuse, so every probe is independent of the
 * load generator and of earlier probes.
 */
import http from "node:http";
import net from "node:net";

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** One GET (or other method) with a fresh connection; resolves `{ status, body, ms }`. */
export function request(url, { method = "GET", timeoutMs = 5_000, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(url, { method, agent: false, headers: { connection: "close", ...headers } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - t0 }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Polls `url` until it answers 200 (and `accept(body)` if given), every `intervalMs`, for at most
 * `timeoutMs`. `isAlive()` lets the caller stop early when the server process already died.
 * Resolves the time of the first good answer (performance.now()) and its body.
 */
export async function waitFor200(url, { timeoutMs = 15_000, intervalMs = 2, accept = () => true, isAlive = () => true } = {}) {
  const deadline = performance.now() + timeoutMs;
  let last = "no attempt";
  while (performance.now() < deadline) {
    if (!isAlive()) throw new Error(`the server exited before answering ${url} (last: ${last})`);
    try {
      const r = await request(url, { timeoutMs: Math.max(100, deadline - performance.now()) });
      if (r.status === 200 && accept(r.body)) return { at: performance.now(), body: r.body };
      last = `HTTP ${r.status}: ${firstLine(r.body)}`;
    } catch (err) {
      last = err.code ?? err.message;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

export function firstLine(text, max = 160) {
  const line = String(text ?? "").trim().split("\n")[0] ?? "";
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
