/**
 * Ledge's Response keeps a string or bytes body as given and makes a stream only when asked for
 * one; every way of reading the body must behave as Node's (the Fetch standard's) Response does.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Response } from "../../src/runtime/isolate/web.js";

async function readStream(body: ReadableStream<Uint8Array>): Promise<string> {
  const reader = body.getReader();
  let out = "";
  const dec = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out + dec.decode();
    out += dec.decode(value, { stream: true });
  }
}

describe("Response with a string or bytes body", () => {
  test("a string body gets text/plain and reads back once", async () => {
    const r = new Response("héllo");
    assert.equal(r.headers.get("content-type"), "text/plain;charset=UTF-8");
    assert.equal(r.bodyUsed, false);
    assert.equal(await r.text(), "héllo");
    assert.equal(r.bodyUsed, true);
    await assert.rejects(r.text(), TypeError);
    await assert.rejects(r.arrayBuffer(), TypeError);
  });

  test("an explicit content-type is kept", async () => {
    const r = new Response("<p>x</p>", { headers: { "content-type": "text/html" } });
    assert.equal(r.headers.get("content-type"), "text/html");
  });

  test("json, arrayBuffer, blob and formData read the same bytes", async () => {
    assert.deepEqual(await new Response('{"a":[1,2]}').json(), { a: [1, 2] });
    const ab = await new Response(new Uint8Array([1, 2, 3])).arrayBuffer();
    assert.deepEqual([...new Uint8Array(ab)], [1, 2, 3]);
    const blob = await new Response("four", { headers: { "content-type": "text/x" } }).blob();
    assert.equal(blob.type, "text/x");
    assert.equal(await blob.text(), "four");
    const form = await new Response("a=1&b=two", { headers: { "content-type": "application/x-www-form-urlencoded" } }).formData();
    assert.equal(form.get("b"), "two");
  });

  test("bytes given as a view are read from the view's range only", async () => {
    const whole = new Uint8Array([9, 1, 2, 3, 9]);
    assert.equal(await new Response(whole.subarray(1, 4)).text(), "\u0001\u0002\u0003");
  });

  test("body is a stream that yields the bytes and marks the body used", async () => {
    const r = new Response("streamed");
    const body = r.body!;
    assert.ok(body instanceof ReadableStream);
    assert.equal(r.body, body, "the same stream on every read of .body");
    assert.equal(await readStream(body), "streamed");
    assert.equal(r.bodyUsed, true);
    await assert.rejects(r.text(), TypeError);
  });

  test("a locked body cannot be read another way, nor cloned", async () => {
    const r = new Response("x");
    r.body!.getReader();
    await assert.rejects(r.text(), TypeError);
    assert.throws(() => r.clone(), TypeError);
  });

  test("clone() gives an independent copy before the body is read, and throws after", async () => {
    const r = new Response("twice", { status: 201, statusText: "Made", headers: { "x-a": "1" } });
    const c = r.clone();
    assert.ok(c instanceof Response);
    assert.equal(c.status, 201);
    assert.equal(c.statusText, "Made");
    assert.equal(c.headers.get("x-a"), "1");
    assert.equal(await c.text(), "twice");
    assert.equal(await r.text(), "twice");
    assert.throws(() => r.clone(), TypeError);
  });

  test("the stream can feed another Response (piping)", async () => {
    assert.equal(await new globalThis.Response(new Response("pipe me").body).text(), "pipe me");
  });

  test("a body with a null-body status is a TypeError, as in the standard", () => {
    for (const status of [204, 205, 304]) assert.throws(() => new Response("x", { status }), TypeError);
    assert.equal(new Response(null, { status: 204 }).status, 204);
  });

  test("Response.json sets the content type and reads back", async () => {
    const r = Response.json({ ok: true }, { status: 202 });
    assert.equal(r.status, 202);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.deepEqual(await r.json(), { ok: true });
  });

  test("instanceof holds for Responses made by Node's own fetch machinery", () => {
    assert.ok(new globalThis.Response("x") instanceof Response);
  });
});
