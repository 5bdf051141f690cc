/**
 * The node key that encrypts stored secrets: 32 bytes from `LEDGE_SECRET_KEY` (64 hex digits or
 * base64), else from `<persistDir>/secret.key`, a file Ledge writes once with mode 0600.
 *
 * A key file beside the data it encrypts only protects copies of the data files (a backup, a
 * synced folder) made without the key; on the machine itself, file permissions are the guard.
 * Keeping the key in `LEDGE_SECRET_KEY` (from a secret manager, a systemd credential) keeps it off
 * the state folder altogether.
 */
import { createHmac, randomBytes } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LedgeError } from "../shared/errors.js";
import { readTextIfExists } from "./internal.js";

export const SECRET_KEY_ENV = "LEDGE_SECRET_KEY";
const KEY_BYTES = 32;

export interface NodeKey {
  key: Buffer;
  /** Names the key without revealing it: stored beside the ciphertexts, to tell a wrong key from a damaged file. */
  id: string;
  /** Where the key came from, for messages: `LEDGE_SECRET_KEY` or the key file's path. */
  source: string;
}

export function keyFilePath(persistDir: string): string {
  return join(persistDir, "secret.key");
}

/**
 * The node key, or null when there is none yet and `create` is false. With `create`, a missing
 * key file is generated (exclusively, so two commands started together agree on one key).
 * Example: `const key = loadNodeKey("/srv/app/.ledge/state", { create: true })!`.
 */
export function loadNodeKey(persistDir: string, opts: { create: boolean; env?: NodeJS.ProcessEnv }): NodeKey | null {
  const fromEnv = (opts.env ?? process.env)[SECRET_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return nodeKey(decodeKey(fromEnv.trim(), SECRET_KEY_ENV), SECRET_KEY_ENV);
  const file = keyFilePath(persistDir);
  const existing = readKeyFile(file);
  if (existing !== null || !opts.create) return existing;
  try {
    writeFileSync(file, `${randomBytes(KEY_BYTES).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return readKeyFile(file);
}

function readKeyFile(file: string): NodeKey | null {
  const text = readTextIfExists(file);
  if (text === null) return null;
  // A key file restored from a backup may come back world-readable.
  chmodSync(file, 0o600);
  return nodeKey(decodeKey(text.trim(), file), file);
}

function decodeKey(text: string, source: string): Buffer {
  const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : /^[A-Za-z0-9+/]{43}=?$/.test(text) ? Buffer.from(text, "base64") : null;
  if (bytes === null || bytes.byteLength !== KEY_BYTES) {
    throw new LedgeError(
      "LEDGE_SECRET_KEY",
      `${source} must hold a 32-byte key written as 64 hex digits or in base64 (make one with: openssl rand -hex 32)`,
    );
  }
  return bytes;
}

function nodeKey(key: Buffer, source: string): NodeKey {
  return { key, id: createHmac("sha256", key).update("ledge secret key id").digest("hex").slice(0, 16), source };
}
