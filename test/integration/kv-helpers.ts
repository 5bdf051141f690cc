/**
 * Shared by the KV integration tests (`kv-*.test.ts`): a Worker that runs one KV call per request,
 * described as JSON, and reports the result (with its runtime type) or the error it threw, so tests
 * can drive every method of `env.<BINDING>` through the real CLI and assert on what user code sees.
 */

/** `wrangler.toml` for an app named `name` with one KV binding per `[binding, id]` pair. */
export function kvToml(name: string, bindings: [binding: string, id: string][]): string {
  const lines = [`name = "${name}"`, 'main = "src/index.js"', 'compatibility_date = "2026-11-01"', ""];
  for (const [binding, id] of bindings) lines.push("[[kv_namespaces]]", `binding = "${binding}"`, `id = "${id}"`, "");
  return lines.join("\n");
}

/**
 * The Worker. `POST /kv` with a `KvOp` runs it and answers `{ result }` or `{ error }` (always 200,
 * so a thrown error is data). `POST /fill` writes `count` keys `<prefix><index padded to 5>`.
 */
export const KV_WORKER = String.raw`
function valueOf(spec) {
  if ("text" in spec) return spec.text;
  if ("raw" in spec) return spec.raw;
  const bytes = "bytes" in spec ? new Uint8Array(spec.bytes) : new Uint8Array(spec.size).fill(spec.fill ?? 120);
  switch (spec.as) {
    case "ArrayBuffer": return bytes.buffer;
    case "Uint8Array": return bytes;
    case "DataView": return new DataView(bytes.buffer);
    case "ReadableStream": {
      // Several chunks, so the binding has to assemble them.
      const chunk = 64 * 1024;
      let offset = 0;
      return new ReadableStream({
        pull(controller) {
          if (offset >= bytes.byteLength) return controller.close();
          controller.enqueue(bytes.slice(offset, offset + chunk));
          offset += chunk;
        },
      });
    }
  }
  throw new Error("bad value spec " + JSON.stringify(spec));
}

async function bytesOf(stream) {
  const parts = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.byteLength;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) { out.set(p, offset); offset += p.byteLength; }
  return out;
}

// Results keep their runtime type: a stream, ArrayBuffer or Map becomes { $type, ... }.
async function describe(v) {
  if (v === undefined) return { $type: "undefined" };
  if (v === null || typeof v !== "object") return v;
  if (v instanceof ReadableStream) return { $type: "ReadableStream", bytes: [...(await bytesOf(v))] };
  if (v instanceof ArrayBuffer) return { $type: "ArrayBuffer", bytes: [...new Uint8Array(v)] };
  if (v instanceof Map) {
    const entries = [];
    for (const [k, x] of v) entries.push([k, await describe(x)]);
    return { $type: "Map", entries };
  }
  if (Array.isArray(v)) return Promise.all(v.map(describe));
  const o = {};
  for (const [k, x] of Object.entries(v)) o[k] = await describe(x);
  return o;
}

async function run(env, op) {
  const kv = env[op.binding ?? "KV"];
  const args = [];
  switch (op.method) {
    case "get":
    case "getWithMetadata":
      args.push(op.key);
      if ("options" in op) args.push(op.options);
      break;
    case "put":
      args.push(op.key, valueOf(op.value));
      if ("options" in op) args.push(op.options);
      break;
    case "delete":
      args.push(op.key);
      break;
    case "list":
      if ("options" in op) args.push(op.options);
      break;
    default:
      throw new Error("unknown method " + op.method);
  }
  // Workers reports argument errors through the returned promise, never synchronously.
  let promise;
  try {
    promise = kv[op.method](...args);
  } catch (err) {
    return { error: { name: err.name, message: err.message, typeError: err instanceof TypeError, sync: true } };
  }
  try {
    return { result: await describe(await promise) };
  } catch (err) {
    return { error: { name: err.name, message: err.message, typeError: err instanceof TypeError, sync: false } };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/kv") return Response.json(await run(env, await request.json()));
    if (request.method === "POST" && url.pathname === "/fill") {
      const { prefix, count, binding } = await request.json();
      for (let i = 0; i < count; i++) await env[binding ?? "KV"].put(prefix + String(i).padStart(5, "0"), String(i));
      return Response.json({ written: count });
    }
    return new Response("not found", { status: 404 });
  },
};
`;

export type ValueSpec =
  | { text: string }
  | { raw: unknown }
  | { bytes: number[]; as: "ArrayBuffer" | "Uint8Array" | "DataView" | "ReadableStream" }
  | { size: number; fill?: number; as: "ArrayBuffer" | "Uint8Array" | "DataView" | "ReadableStream" };

export type KvOp =
  | { method: "get" | "getWithMetadata"; key: unknown; options?: unknown; binding?: string }
  | { method: "put"; key: unknown; value: ValueSpec; options?: unknown; binding?: string }
  | { method: "delete"; key: unknown; binding?: string }
  | { method: "list"; options?: unknown; binding?: string };

export interface KvError {
  name: string;
  message: string;
  typeError: boolean;
  /** True if the method threw instead of returning a rejected promise. */
  sync: boolean;
}

export type KvReply = { result: unknown; error?: undefined } | { error: KvError; result?: undefined };

/** Runs one KV call in the Worker at `baseUrl`. */
export async function kvCall(baseUrl: string, op: KvOp): Promise<KvReply> {
  const res = await fetch(`${baseUrl}/kv`, { method: "POST", body: JSON.stringify(op) });
  if (res.status !== 200) throw new Error(`POST /kv answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as KvReply;
}

/** Like `kvCall`, but fails the test with the Worker's error if the call threw. */
export async function kvOk(baseUrl: string, op: KvOp): Promise<unknown> {
  const reply = await kvCall(baseUrl, op);
  if (reply.error) throw new Error(`KV ${op.method} failed in the Worker: ${reply.error.name}: ${reply.error.message}`);
  return reply.result;
}

/** Like `kvCall`, but fails the test if the call did not throw; returns the error. */
export async function kvErr(baseUrl: string, op: KvOp): Promise<KvError> {
  const reply = await kvCall(baseUrl, op);
  if (!reply.error) throw new Error(`KV ${op.method} was expected to fail but returned ${JSON.stringify(reply.result)}`);
  return reply.error;
}

/** Writes `count` keys named `<prefix>00000`, `<prefix>00001`, ... with their index as the value. */
export async function kvFill(baseUrl: string, prefix: string, count: number, binding?: string): Promise<void> {
  const res = await fetch(`${baseUrl}/fill`, { method: "POST", body: JSON.stringify({ prefix, count, binding }) });
  if (res.status !== 200) throw new Error(`POST /fill answered ${res.status}: ${await res.text()}`);
  await res.body?.cancel();
}

export interface ListPage {
  keys: { name: string; expiration?: number; metadata?: unknown }[];
  list_complete: boolean;
  cursor?: string;
  cacheStatus: null;
}

/** Compares by UTF-8 bytes (code points), the order KV lists keys in. */
export function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
