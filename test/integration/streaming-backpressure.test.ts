/**
 * Flow control of streamed responses: a client that stops reading stops the Worker's stream from
 * being pulled (the front door acknowledges chunks only once the client's socket took them), and
 * reading again resumes it. Without it, a slow client would make the node buffer the whole stream.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { eventually, removeDir, startLedge, writeProject, type RunningLedge } from "../helpers/ledge.js";

const CHUNK = 64 * 1024;

const WORKER = `
let produced = 0;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/produced") return new Response(String(produced));
    const chunk = new Uint8Array(${CHUNK});
    produced = 0;
    const body = new ReadableStream({
      pull(controller) {
        produced += chunk.byteLength;
        controller.enqueue(chunk);
      },
    }, { highWaterMark: 0 });
    return new Response(body, { headers: { "content-type": "application/octet-stream" } });
  },
};
`;

async function produced(base: string): Promise<number> {
  return Number(await (await fetch(`${base}/produced`)).text());
}

describe("streamed responses follow the client's pace", () => {
  let dir: string;
  let ledge: RunningLedge;

  before(async () => {
    dir = writeProject({
      "wrangler.toml": `name = "flow"\nmain = "index.js"\ncompatibility_date = "2026-11-01"\n`,
      "index.js": WORKER,
    });
    // One isolate, so /produced reads the counter of the isolate that streams.
    ledge = await startLedge(dir, { args: ["--isolates", "1", "--no-access-log"] });
  });

  after(async () => {
    await ledge?.stop();
    removeDir(dir);
  });

  test("a paused client bounds what the Worker produces; resuming continues the stream", async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(`${ledge.url}/stream`, resolve).on("error", reject);
    });
    assert.equal(res.statusCode, 200);
    res.pause();
    // Wait until production has stopped growing: the window plus the sockets' buffers are full.
    let last = -1;
    const stalled = await eventually(
      async () => {
        const now = await produced(ledge.url);
        const same = now === last && now > 0;
        last = now;
        return same ? now : 0;
      },
      "the Worker's stream to stop being pulled while the client does not read",
      10_000,
      300,
    );
    // Unbounded, a pulled-as-fast-as-possible stream reaches hundreds of MB in this time.
    assert.ok(stalled < 48 * 1024 * 1024, `produced ${stalled} bytes while the client was paused`);

    let received = 0;
    res.on("data", (d: Buffer) => (received += d.length));
    res.resume();
    await eventually(async () => (await produced(ledge.url)) > stalled + 8 * 1024 * 1024, "production to resume once the client reads", 10_000);
    assert.ok(received > 0);
    res.destroy();
    // The client left: the stream is cancelled and production stops again.
    let prev = -1;
    await eventually(
      async () => {
        const now = await produced(ledge.url);
        const same = now === prev;
        prev = now;
        return same;
      },
      "production to stop after the client disconnected",
      10_000,
      300,
    );
  });
});
