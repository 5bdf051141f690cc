/**
 * One app's stored secrets: `<persistDir>/secrets/<app>.json`, mode 0600. Names are kept in the
 * clear (`ledge secret list` shows them, as `wrangler secret list` does); each value is sealed with
 * AES-256-GCM under the node key, with a fresh 12-byte IV, and bound to its app and name (the
 * additional data), so a value moved to another name or another app's file fails to open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LedgeError } from "../shared/errors.js";
import { readTextIfExists } from "./internal.js";
import { loadNodeKey, type NodeKey } from "./key.js";

/** Secret names, as for vars: a letter or `_`, then letters, digits and `_`; up to 256 characters. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;
/** App names, as the config allows them (they name a file here). */
const APP = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
/** Cloudflare's limit for one environment variable or secret: 5 KiB. */
export const MAX_SECRET_BYTES = 5 * 1024;

interface Sealed {
  iv: string;
  tag: string;
  data: string;
}

interface SecretFile {
  version: 1;
  /** The `id` of the key the values were sealed with. */
  keyId: string;
  secrets: Record<string, Sealed>;
}

export function secretsFile(persistDir: string, app: string): string {
  if (!APP.test(app)) throw new LedgeError("LEDGE_SECRET_APP", `"${app}" is not an app name: letters, digits, "-" and "_" only`);
  return join(persistDir, "secrets", `${app}.json`);
}

export function validateSecretName(name: string): void {
  if (!NAME.test(name)) {
    throw new LedgeError("LEDGE_SECRET_NAME", `"${name}" is not a valid secret name: a letter or "_", then letters, digits and "_" (at most 256)`);
  }
}

/** The app's secret names, sorted; [] when it has none. Needs no key. */
export function listSecretNames(persistDir: string, app: string): string[] {
  return Object.keys(readFile(persistDir, app)?.secrets ?? {}).sort();
}

/**
 * Stores (or replaces) one secret, creating the node key on first use.
 * Example: `putSecret(".ledge/state", "billing", "STRIPE_KEY", "sk_live_...")`.
 */
export function putSecret(persistDir: string, app: string, name: string, value: string): NodeKey {
  validateSecretName(name);
  const bytes = Buffer.from(value, "utf8");
  if (bytes.byteLength === 0) throw new LedgeError("LEDGE_SECRET_VALUE", "the secret's value is empty");
  if (bytes.byteLength > MAX_SECRET_BYTES) {
    throw new LedgeError("LEDGE_SECRET_VALUE", `the secret's value is ${bytes.byteLength} bytes; the limit is ${MAX_SECRET_BYTES} (as on Cloudflare)`);
  }
  mkdirSync(join(persistDir, "secrets"), { recursive: true, mode: 0o700 });
  const key = loadNodeKey(persistDir, { create: true })!;
  const file = readFile(persistDir, app) ?? { version: 1, keyId: key.id, secrets: {} };
  if (Object.keys(file.secrets).length > 0) assertSameKey(file, key, app);
  file.keyId = key.id;
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key.key, iv);
  cipher.setAAD(additionalData(app, name));
  const data = Buffer.concat([cipher.update(bytes), cipher.final()]);
  file.secrets[name] = { iv: iv.toString("base64"), tag: cipher.getAuthTag().toString("base64"), data: data.toString("base64") };
  writeFile(persistDir, app, file);
  return key;
}

/** Deletes one secret; false when the app had no secret of that name. */
export function deleteSecret(persistDir: string, app: string, name: string): boolean {
  const file = readFile(persistDir, app);
  if (file === null || !Object.hasOwn(file.secrets, name)) return false;
  delete file.secrets[name];
  writeFile(persistDir, app, file);
  return true;
}

/** Every secret of the app, decrypted; {} when it has none (then no key is needed). */
export function readSecrets(persistDir: string, app: string): Record<string, string> {
  const file = readFile(persistDir, app);
  if (file === null || Object.keys(file.secrets).length === 0) return {};
  const key = loadNodeKey(persistDir, { create: false });
  if (key === null) {
    throw new LedgeError(
      "LEDGE_SECRET_KEY",
      `app "${app}" has stored secrets but there is no key to open them: set LEDGE_SECRET_KEY to the key they were stored with, or restore ${join(persistDir, "secret.key")}`,
    );
  }
  assertSameKey(file, key, app);
  const out: Record<string, string> = {};
  for (const [name, sealed] of Object.entries(file.secrets)) {
    try {
      const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(sealed.iv, "base64"));
      decipher.setAAD(additionalData(app, name));
      decipher.setAuthTag(Buffer.from(sealed.tag, "base64"));
      out[name] = Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64")), decipher.final()]).toString("utf8");
    } catch {
      throw new LedgeError(
        "LEDGE_SECRET_DAMAGED",
        `secret "${name}" of app "${app}" cannot be opened: ${secretsFile(persistDir, app)} was changed or damaged; store it again with ledge secret put ${name}`,
      );
    }
  }
  return out;
}

function assertSameKey(file: SecretFile, key: NodeKey, app: string): void {
  if (file.keyId === key.id) return;
  throw new LedgeError(
    "LEDGE_SECRET_KEY",
    `the secrets of app "${app}" were stored with another key than the one in ${key.source}; use that key again (LEDGE_SECRET_KEY or the secret.key file it came from)`,
  );
}

function additionalData(app: string, name: string): Buffer {
  return Buffer.from(`ledge-secret\0${app}\0${name}`, "utf8");
}

function readFile(persistDir: string, app: string): SecretFile | null {
  const path = secretsFile(persistDir, app);
  const text = readTextIfExists(path);
  if (text === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  const f = parsed as Partial<SecretFile> | null;
  if (f === null || f.version !== 1 || typeof f.keyId !== "string" || typeof f.secrets !== "object" || f.secrets === null) {
    throw new LedgeError("LEDGE_SECRET_DAMAGED", `${path} is not a Ledge secrets file (damaged, or written by a newer Ledge)`);
  }
  return f as SecretFile;
}

function writeFile(persistDir: string, app: string, file: SecretFile): void {
  const path = secretsFile(persistDir, app);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
