/**
 * The fetch-family globals used the Workers way, through the real CLI (`ledge serve`):
 * Request, Response, Headers, URL, URLSearchParams, fetch() to a local upstream server,
 * AbortController, the streams (including a response the client reads chunk by chunk), Blob,
 * File and FormData. The Worker is test/fixtures/apps/globals (compatibility_date before
 * nodejs_compat became the default, so only Workers globals exist).
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { serveFixtureApp } from "../helpers/apps.js";
import { eventually, type RunningLedge } from "../helpers/ledge.js";

let ledge: RunningLedge;
let upstream: http.Server;
let upstreamUrl: string;
/** Requests the upstream server saw, for checks on what the Worker sent. */
const upstreamSeen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
/** /hang requests the upstream is holding open; closed in `after`. */
const hanging = new Set<http.ServerResponse>();

before(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      upstreamSeen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url === "/hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "x-upstream": "node" });
      res.end(JSON.stringify({ method: req.method, url: req.url, fromWorker: req.headers["x-from-worker"] ?? null, body }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  ledge = await serveFixtureApp("globals", { args: ["--isolates", "1"] });
});

after(async () => {
  await ledge?.stop();
  for (const res of hanging) res.destroy();
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

async function getJson(path: string, init?: RequestInit): Promise<Record<string, unknown>> {
  const res = await fetch(`${ledge.url}${path}`, init);
  assert.equal(res.status, 200, `${path} answered ${res.status}: ${await res.clone().text()}\nserver output:\n${ledge.output().slice(-2000)}`);
  return (await res.json()) as Record<string, unknown>;
}

describe("Request, Response, Headers, URL", () => {
  test("the incoming Request carries method, URL, headers and body; new Request/clone/json work", async () => {
    const body = await getJson("/request?a=1&b=2", { method: "POST", headers: { "x-test": "yes" }, body: "payload" });
    assert.deepEqual(body, {
      method: "POST",
      path: "/request",
      query: { a: "1", b: "2" },
      header: "yes",
      body: "payload",
      constructed: { method: "POST", url: "https://example.com/api?x=1", json: { hello: "world" }, cloneText: '{"hello":"world"}' },
      isRequest: true,
    });
  });

  test("a Response's status, status text and headers (repeated and set-cookie) reach the client", async () => {
    const res = await fetch(`${ledge.url}/response`);
    assert.equal(res.status, 201);
    assert.equal(res.statusText, "Made It");
    assert.equal(res.headers.get("x-one"), "1");
    assert.equal(res.headers.get("x-many"), "a, b");
    assert.deepEqual(res.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/"]);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await res.text(), "created");
  });

  test("Response.redirect and Response.json", async () => {
    const res = await fetch(`${ledge.url}/response/redirect`, { redirect: "manual" });
    assert.equal(res.status, 307);
    assert.equal(res.headers.get("location"), "https://example.com/elsewhere");
    await res.body?.cancel();
    assert.deepEqual(await getJson("/response/json"), { status: 202, type: "application/json", body: { ok: true }, isResponse: true });
  });

  test("Headers are case-insensitive, combine repeats and iterate sorted", async () => {
    assert.deepEqual(await getJson("/headers"), {
      entries: [["a", "1, 3"], ["b", "2"]],
      seen: ["a=1, 3", "b=2"],
      has: true,
      get: "1, 3",
      deleted: false,
    });
  });

  test("URL and URLSearchParams", async () => {
    assert.deepEqual(await getJson("/url"), {
      href: "https://user:pw@example.com:8443/path/to?q=1&q=2#frag",
      host: "example.com:8443",
      pathname: "/path/to",
      all: ["1", "2"],
      hash: "#frag",
      username: "user",
      params: "a=1&a=3&b=two+words&c=%C3%BC",
      canParse: false,
    });
  });
});

describe("fetch() to an upstream server", () => {
  test("sends method, headers and body, and returns status, headers and body", async () => {
    const body = await getJson(`/fetch?upstream=${encodeURIComponent(upstreamUrl)}`);
    assert.deepEqual(body, {
      status: 200,
      header: "node",
      body: { method: "POST", url: "/echo?from=worker", fromWorker: "yes", body: "ping" },
    });
  });

  test("accepts a Request object with a byte body, and the upstream's body can be returned as is", async () => {
    const res = await fetch(`${ledge.url}/fetch/request-object?upstream=${encodeURIComponent(upstreamUrl)}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-upstream"), "node");
    assert.deepEqual(await res.json(), { method: "PUT", url: "/echo", fromWorker: null, body: "bytes" });
  });

  test("AbortController.abort() and AbortSignal.timeout() cancel a fetch that never answers", async () => {
    const before = upstreamSeen.filter((r) => r.url === "/hang").length;
    const body = await getJson(`/fetch/abort?upstream=${encodeURIComponent(upstreamUrl)}`);
    assert.deepEqual(body, { error: "AbortError", aborted: true, abortEvents: 1, timeoutError: "TimeoutError" });
    // The first fetch reached the upstream before it was aborted (the Worker waits 20 ms first).
    assert.ok(upstreamSeen.filter((r) => r.url === "/hang").length > before);
  });
});

describe("streams", () => {
  test("ReadableStream, TransformStream, WritableStream, TextDecoderStream and tee", async () => {
    assert.deepEqual(await getJson("/streams/transform"), { out: ["A", "B"], text: "xy", tee: "tt" });
  });

  test("a streamed response reaches the client chunk by chunk", async () => {
    const res = await fetch(`${ledge.url}/streams/chunked`);
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    // The Worker sends "second;" only after /streams/release, so seeing "first;" alone proves the
    // front door forwards chunks as they come rather than buffering the whole body.
    let text = "";
    while (!text.includes("first;")) {
      const { done, value } = await reader.read();
      assert.equal(done, false, "stream ended before the first chunk");
      text += decoder.decode(value, { stream: true });
    }
    assert.equal(text, "first;");
    const release = await fetch(`${ledge.url}/streams/release`);
    assert.equal(await release.text(), "released");
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    assert.equal(text, "first;second;");
  });

  test("when the client goes away mid-stream, the Worker's stream is cancelled", async () => {
    const controller = new AbortController();
    const res = await fetch(`${ledge.url}/streams/endless`, { signal: controller.signal });
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /^chunk 0;/);
    controller.abort();
    await eventually(
      async () => ((await getJson("/streams/cancelled")) as { cancelled: boolean }).cancelled,
      "the endless stream's cancel() to run after the client disconnected",
    );
  });
});

describe("Blob, File and FormData", () => {
  test("Blob and File", async () => {
    assert.deepEqual(await getJson("/blob"), {
      size: 11,
      type: "text/plain",
      text: "hello world",
      slice: "world",
      bytes: 11,
      file: { name: "data.csv", type: "text/csv", text: "x,y", isBlob: true },
    });
    const res = await fetch(`${ledge.url}/blob/body`);
    assert.equal(res.headers.get("content-type"), "text/x-blob");
    assert.equal(await res.text(), "blob body");
  });

  test("request.formData() parses a multipart upload and a FormData response body is multipart", async () => {
    const form = new FormData();
    form.append("name", "Ada");
    form.append("upload", new Blob(["file contents"], { type: "text/plain" }), "notes.txt");
    const res = await fetch(`${ledge.url}/formdata`, { method: "POST", body: form });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^multipart\/form-data; boundary=/);
    const reply = await res.formData();
    assert.equal(reply.get("greeting"), "hello Ada");
    const echo = reply.get("echo") as File;
    assert.equal(echo.name, "echo.txt");
    assert.equal(await echo.text(), "file contents");
  });
});
