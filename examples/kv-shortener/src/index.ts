/**
 * A URL shortener on Workers KV, with redirects cached by the Cache API.
 * Run it with `npx ledge dev examples/kv-shortener` and open http://127.0.0.1:8787/.
 *
 * - `GET /`: a form. `POST /` with a `url` form field (answers an HTML page) or a JSON body
 *   `{ "url": ... }` (answers JSON) creates a short code.
 * - `GET /<code>`: a 302 to the stored URL. Redirects are kept in `caches.default` for
 *   REDIRECT_CACHE_SECONDS, so a popular link costs one KV read per cache lifetime, not per click.
 * - `DELETE /<code>` with `Authorization: Bearer <deleteToken>` (the token comes back on creation)
 *   removes the link from KV and from the cache.
 */
import page from "./page.html";

interface Env {
  LINKS: KVNamespace;
}

interface LinkMetadata {
  createdAt: string;
  deleteToken: string;
}

/** Letters and digits without look-alikes (0/O, 1/l/I), so codes can be read aloud. */
const ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const CODE_LENGTH = 7;
/** Codes made here, and hand-made ones written with `ledge kv key put link:<code> <url>`. */
const CODE = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_URL_LENGTH = 2048;
/** How long a redirect is served from the cache, in seconds (only shared caches read s-maxage). */
const REDIRECT_CACHE_SECONDS = 300;

const linkKey = (code: string) => `link:${code}`;

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/") {
      if (request.method === "GET" || request.method === "HEAD") return html(page);
      if (request.method === "POST") return shorten(request, env, url);
      return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET, HEAD, POST" } });
    }
    const code = url.pathname.slice(1);
    if (!CODE.test(code)) return notFound();
    if (request.method === "GET" || request.method === "HEAD") return follow(code, env, ctx, url);
    if (request.method === "DELETE") return remove(code, request, env, url);
    return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET, HEAD, DELETE" } });
  },
};

async function shorten(request: Request, env: Env, url: URL): Promise<Response> {
  const wantsJson = (request.headers.get("content-type") ?? "").includes("application/json");
  let target: unknown;
  try {
    target = wantsJson ? ((await request.json()) as { url?: unknown }).url : (await request.formData()).get("url");
  } catch {
    return failure(wantsJson, 400, "The body must be a form with a url field, or JSON like {\"url\": \"https://…\"}.");
  }
  const problem = checkTarget(target);
  if (problem) return failure(wantsJson, 400, problem);

  const code = await unusedCode(env);
  const metadata: LinkMetadata = { createdAt: new Date().toISOString(), deleteToken: randomString(24) };
  await env.LINKS.put(linkKey(code), target as string, { metadata });
  const shortUrl = `${url.origin}/${code}`;
  if (wantsJson) return Response.json({ code, shortUrl, url: target, deleteToken: metadata.deleteToken }, { status: 201 });
  const result = `<p class="result">Your short link: <a href="${escapeHtml(shortUrl)}">${escapeHtml(shortUrl)}</a><br>→ ${escapeHtml(target as string)}</p>`;
  return html(page.replace("<!--RESULT-->", result), 201);
}

function checkTarget(target: unknown): string | null {
  if (typeof target !== "string" || target === "") return "Give the URL to shorten in the url field.";
  if (target.length > MAX_URL_LENGTH) return `The URL is longer than ${MAX_URL_LENGTH} characters.`;
  let parsed: URL;
  try {
    parsed = new URL(target);
  } catch {
    return "That is not a valid URL.";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "Only http: and https: URLs can be shortened.";
  return null;
}

/** A random code nobody has taken; with 56^7 codes a collision is rare, so a few tries suffice. */
async function unusedCode(env: Env): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const code = randomString(CODE_LENGTH);
    if ((await env.LINKS.get(linkKey(code))) === null) return code;
  }
  throw new Error("Could not find an unused short code");
}

/** Uniformly random characters of ALPHABET (bytes past the last whole multiple are dropped). */
function randomString(length: number): string {
  const limit = 256 - (256 % ALPHABET.length);
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit && out.length < length) out += ALPHABET[byte % ALPHABET.length];
    }
  }
  return out;
}

/** The cache key of a code's redirect: its own URL without query string, always as a GET. */
function cacheKey(code: string, url: URL): Request {
  return new Request(`${url.origin}/${code}`);
}

async function follow(code: string, env: Env, ctx: ExecutionContext, url: URL): Promise<Response> {
  const key = cacheKey(code, url);
  const cached = await caches.default.match(key);
  if (cached) return cached;
  const target = await env.LINKS.get(linkKey(code));
  if (target === null) return notFound();
  const response = new Response(null, {
    status: 302,
    headers: { location: target, "cache-control": `s-maxage=${REDIRECT_CACHE_SECONDS}` },
  });
  // Stored after the answer is sent; the next click is served from the cache.
  ctx.waitUntil(caches.default.put(key, response.clone()));
  return response;
}

async function remove(code: string, request: Request, env: Env, url: URL): Promise<Response> {
  const { value, metadata } = await env.LINKS.getWithMetadata<LinkMetadata>(linkKey(code));
  if (value === null) return notFound();
  const token = (request.headers.get("authorization") ?? "").replace(/^Bearer\s+/i, "");
  if (!metadata || token !== metadata.deleteToken) {
    return new Response("The Authorization header must carry this link's delete token.\n", {
      status: 403,
    });
  }
  await env.LINKS.delete(linkKey(code));
  await caches.default.delete(cacheKey(code, url));
  return new Response(null, { status: 204 });
}

function html(body: string, status = 200): Response {
  return new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}

function failure(json: boolean, status: number, message: string): Response {
  if (json) return Response.json({ error: message }, { status });
  return html(page.replace("<!--RESULT-->", `<p class="result">${escapeHtml(message)}</p>`), status);
}

function notFound(): Response {
  return new Response("No such short link\n", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
