/**
 * Stopping `ledge serve` (SIGTERM) while a client holds a connection it has not sent a request on
 * yet (browsers open such spare connections): the CLI closes it and exits with code 0 promptly,
 * rather than waiting for node:http's 60 s headers timeout. A stop sent the moment "Ready on" is
 * printed is a clean stop too, not a kill.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, test } from "node:test";
import { removeDir, startLedge, writeProject } from "../helpers/ledge.js";

/** Far below node:http's 60 s headers timeout, far above a normal stop. */
const STOP_LIMIT_MS = 10_000;

const dir = writeProject({
  "wrangler.toml": 'name = "stop"\nmain = "src/index.ts"\ncompatibility_date = "2026-01-15"\n',
  "src/index.ts": "export default { fetch: () => new Response('ok') };\n",
});
after(() => removeDir(dir));

test("SIGTERM with an unused client connection open exits promptly with code 0", async () => {
  const ledge = await startLedge(dir, { args: ["--isolates", "1", "--no-access-log"] });
  const spare = net.connect(ledge.port, "127.0.0.1");
  try {
    await new Promise<void>((resolve, reject) => {
      spare.once("connect", resolve);
      spare.once("error", reject);
    });
    const spareClosed = new Promise<void>((resolve) => spare.once("close", () => resolve()));
    assert.equal(await (await fetch(ledge.url)).text(), "ok");
    const t0 = performance.now();
    const code = await ledge.stop();
    const elapsed = performance.now() - t0;
    assert.equal(code, 0);
    assert.ok(elapsed < STOP_LIMIT_MS, `stop took ${elapsed.toFixed(0)} ms`);
    await spareClosed;
  } finally {
    spare.destroy();
    await ledge.kill();
  }
});

test("SIGTERM sent the moment Ready is printed still stops cleanly with code 0", async () => {
  const ledge = await startLedge(dir, { args: ["--isolates", "1", "--no-access-log"] });
  try {
    assert.equal(await ledge.stop(), 0);
  } finally {
    await ledge.kill();
  }
});
