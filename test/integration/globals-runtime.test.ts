/**
 * The other Workers globals used the Workers way, through the real CLI (`ledge serve`): crypto,
 * TextEncoder/TextDecoder, atob/btoa, EventTarget, structuredClone, timers, queueMicrotask,
 * scheduler.wait, console (lines prefixed with app and request id), navigator.userAgent,
 * request.cf / CF-Connecting-IP / the request id, ctx.waitUntil, WebSocketPair and WebSocket.
 * The Worker is test/fixtures/apps/globals, served with one isolate so its module state is shared.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { serveFixtureApp } from "../helpers/apps.js";
import { eventually, type RunningLedge } from "../helpers/ledge.js";

let ledge: RunningLedge;

before(async () => {
  ledge = await serveFixtureApp("globals", { args: ["--isolates", "1", "--colo", "AMS"] });
});

after(async () => {
  await ledge?.stop();
});

async function getJson(path: string, init?: RequestInit): Promise<Record<string, unknown>> {
  const res = await fetch(`${ledge.url}${path}`, init);
  assert.equal(res.status, 200, `${path} answered ${res.status}: ${await res.clone().text()}\nserver output:\n${ledge.output().slice(-2000)}`);
  return (await res.json()) as Record<string, unknown>;
}

/** The request id the front door gave a response, read from its access-log line. */
async function accessLogId(path: string): Promise<string> {
  let id = "";
  await eventually(() => {
    const m = new RegExp(`GET ${path.replace(/[?]/g, "\\?")} 200 [\\d.]+ms \\[([0-9a-f]+)\\]`).exec(ledge.output());
    id = m?.[1] ?? "";
    return id;
  }, `the access-log line of GET ${path}`);
  return id;
}

describe("crypto", () => {
  test("getRandomValues, randomUUID, subtle digest, HMAC and ECDSA sign/verify", async () => {
    const text = "the quick brown fox";
    const body = await getJson(`/crypto?text=${encodeURIComponent(text)}`);
    assert.equal(body.randomLength, 16);
    assert.equal(body.randomNonZero, true);
    assert.match(body.uuid as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(body.sha256, createHash("sha256").update(text).digest("hex"));
    assert.equal(body.hmac, createHmac("sha256", "secret").update(text).digest("hex"));
    assert.equal(body.verified, true);
    assert.equal(body.tampered, false);
    assert.equal(body.ecOk, true);
    const again = await getJson(`/crypto?text=x`);
    assert.notEqual(again.uuid, body.uuid);
  });
});

describe("encoding", () => {
  test("TextEncoder, TextDecoder (streaming, latin1, fatal), atob and btoa", async () => {
    assert.deepEqual(await getJson("/encoding"), {
      bytes: [...Buffer.from("héllo ✓")],
      streamed: "héllo ✓",
      latin1: "é",
      fatal: "TypeError",
      b64: "aGVsbG8sIHdvcmxk",
      unb64: "hello, world",
    });
  });
});

describe("EventTarget, structuredClone, timers, queueMicrotask, scheduler.wait", () => {
  test("EventTarget subclasses, once listeners, removal and CustomEvent", async () => {
    assert.deepEqual(await getJson("/events"), { count: 2, seen: ["tick", "once", "tick"], detail: { n: 1 } });
  });

  test("structuredClone copies Maps, Sets, Dates, typed arrays and cycles, and refuses functions", async () => {
    assert.deepEqual(await getJson("/clone"), {
      distinct: true,
      cyclic: true,
      date: "1970-01-01T00:00:00.000Z",
      map: [1, 2],
      bytes: [1, 2],
      uncloneable: "DataCloneError",
    });
  });

  test("timers run in order, clear, repeat and pass arguments; microtasks run before timers", async () => {
    const body = await getJson("/timers");
    assert.deepEqual(body.order, ["sync", "microtask", "promise", "timeout", "interval 1", "interval 2", "interval 3"]);
    assert.ok((body.waited as number) >= 25, `scheduler.wait(30) resolved after ${body.waited} ms`);
    assert.deepEqual(body.args, [7, "x"]);
    // On Workers, setTimeout returns a number (Node returns a Timeout object).
    assert.equal(body.timeoutIdType, "number");
  });
});

describe("console, navigator and request metadata", () => {
  test("console output appears on the terminal prefixed with the app and the request id", async () => {
    const marker = `m${Date.now()}`;
    const res = await fetch(`${ledge.url}/console?marker=${marker}`);
    assert.equal(await res.text(), "logged");
    const id = await accessLogId(`/console?marker=${marker}`);
    const prefix = `[globals ${id}]`;
    await ledge.waitFor(`${prefix} error: error line ${marker}`);
    const out = ledge.output();
    assert.ok(out.includes(`${prefix} log line ${marker} { nested: { value: 1 } }`), out);
    assert.ok(out.includes(`${prefix} info line ${marker}`), out);
    assert.ok(out.includes(`${prefix} warn: warn line ${marker}`), out);
  });

  test("navigator.userAgent is Cloudflare-Workers", async () => {
    assert.deepEqual(await getJson("/navigator"), { userAgent: "Cloudflare-Workers" });
  });

  test("request.cf.colo is the node's region; CF-Connecting-IP and a CF-Ray request id are set", async () => {
    const body = await getJson("/cf", { headers: { "cf-connecting-ip": "6.6.6.6" } });
    assert.equal(body.colo, "AMS");
    assert.ok((body.cfKeys as string[]).includes("country"), `request.cf has ${String(body.cfKeys)}`);
    // A client cannot forge the address the front door saw.
    assert.equal(body.connectingIp, "127.0.0.1");
    const id = await accessLogId("/cf");
    assert.equal(body.ray, `${id}-AMS`);
  });
});

describe("ctx.waitUntil", () => {
  test("work registered with waitUntil finishes after the response was sent", async () => {
    const id = `w${Date.now()}`;
    const res = await fetch(`${ledge.url}/wait-until?id=${id}`);
    assert.equal(await res.text(), "responded before the waitUntil work");
    assert.ok(!((await getJson("/wait-until/log")) as unknown as string[]).includes(id));
    assert.equal(await (await fetch(`${ledge.url}/wait-until/release?id=${id}`)).text(), "released");
    await eventually(
      async () => ((await getJson("/wait-until/log")) as unknown as string[]).includes(id),
      "the waitUntil work to record its id once released",
    );
    await ledge.waitFor(`waitUntil finished ${id}`);
  });
});

describe("WebSocketPair and WebSocket", () => {
  test("both ends of a pair talk in memory; close codes and reasons reach the other end", async () => {
    assert.deepEqual(await getJson("/ws-pair"), { got: ["one", "two"], close: { code: 1001, reason: "going away" }, isWebSocket: true });
  });

  test("a client's close code and reason reach the Worker's close listener", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${ledge.port}/ws`);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const echo = new Promise<string>((resolve) => ws.once("message", (d: Buffer) => resolve(d.toString())));
    ws.send("hi");
    assert.equal(await echo, "echo: hi");
    ws.close(4321, "client done");
    await eventually(async () => {
      const closes = (await getJson("/ws/closes")) as unknown as { code: number; reason: string }[];
      return closes.some((c) => c.code === 4321 && c.reason === "client done");
    }, "the Worker's close listener to record code 4321");
  });

  test("the Worker can close a client's socket with its own code and reason", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${ledge.port}/ws`);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const closed = new Promise<[number, string]>((resolve) => ws.once("close", (code: number, reason: Buffer) => resolve([code, reason.toString()])));
    ws.send("close please");
    assert.deepEqual(await closed, [4000, "asked to"]);
  });
});
