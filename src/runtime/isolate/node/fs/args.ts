/**
 * Node's argument conventions for fs calls: options given as an encoding string or an object,
 * descriptors, flags, positions, data as string or any ArrayBufferView, times in seconds.
 */
import { Buffer } from "node:buffer";
import { flagsFromString } from "./constants.js";
import { invalidArgType, invalidArgValue, outOfRange } from "./errors.js";

export type Encoding = BufferEncoding | "buffer";
export type Options = Record<string, unknown>;

/** An options argument: undefined/null → {}, a string → { encoding }, an object as is. */
export function options(value: unknown, name = "options"): Options {
  if (value === undefined || value === null) return {};
  if (typeof value === "string") return { encoding: value };
  if (typeof value === "object") return value as Options;
  throw invalidArgType(name, "of type string or an instance of Object", value);
}

/** The `encoding` option: `fallback` when absent; null means "bytes" as in Node. */
export function encodingOf(opts: Options, fallback: Encoding | null): Encoding | null {
  const e = opts.encoding;
  if (e === undefined) return fallback;
  if (e === null || e === "buffer") return e === null ? null : "buffer";
  if (typeof e === "string" && Buffer.isEncoding(e)) return e;
  throw invalidArgValue("encoding", e, "is invalid encoding");
}

export function boolOption(opts: Options, key: string, fallback = false): boolean {
  const v = opts[key];
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") throw invalidArgType(`options.${key}`, "of type boolean", v);
  return v;
}

export function fdArg(fd: unknown, name = "fd"): number {
  if (typeof fd !== "number") throw invalidArgType(name, "of type number", fd);
  if (!Number.isInteger(fd) || fd < 0 || fd > 2 ** 31 - 1) throw outOfRange(name, ">= 0 && <= 2147483647", fd);
  return fd;
}

export function flagsArg(flags: unknown, fallback: string): number {
  if (flags === undefined || flags === null) return flagsFromString(fallback)!;
  if (typeof flags === "number") return flags;
  const n = typeof flags === "string" ? flagsFromString(flags) : undefined;
  if (n === undefined) throw invalidArgValue("flags", flags);
  return n;
}

/** A `position`: null (undefined, -1) means the descriptor's own offset. */
export function positionArg(position: unknown): number | null {
  if (position === undefined || position === null || position === -1 || position === -1n) return null;
  if (typeof position === "bigint") position = Number(position);
  if (typeof position !== "number") throw invalidArgType("position", "of type number or bigint", position);
  if (!Number.isSafeInteger(position) || position < 0) throw outOfRange("position", ">= 0 && <= 9007199254740991", position);
  return position;
}

export function integerArg(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number") throw invalidArgType(name, "of type number", value);
  if (!Number.isSafeInteger(value) || value < 0) throw outOfRange(name, ">= 0", value);
  return value;
}

/** Mode arguments are validated (number or octal string) and otherwise ignored: there are no permissions. */
export function modeArg(mode: unknown, name = "mode"): void {
  if (mode === undefined || mode === null) return;
  if (typeof mode === "string" && /^[0-7]+$/.test(mode)) return;
  if (typeof mode !== "number") throw invalidArgType(name, "of type number or a string of octal digits", mode);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777777777) throw outOfRange(name, ">= 0 && <= 4294967295", mode);
}

export function viewBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export function isView(value: unknown): value is ArrayBufferView {
  return ArrayBuffer.isView(value);
}

/** Data to write: a string in `encoding` or the bytes of any ArrayBufferView. */
export function dataBytes(data: unknown, encoding: Encoding | null, name = "data"): Uint8Array {
  if (typeof data === "string") return Buffer.from(data, encoding && encoding !== "buffer" ? encoding : "utf8");
  if (isView(data)) return viewBytes(data);
  throw invalidArgType(name, "of type string or an instance of Buffer, TypedArray, or DataView", data);
}

/** Bytes read, as Node returns them: a Buffer, or a string in `encoding`. */
export function decoded(bytes: Uint8Array, encoding: Encoding | null): Buffer | string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return encoding && encoding !== "buffer" ? buf.toString(encoding) : buf;
}

/** A name (path, entry) as Node returns it: a string, or a Buffer for `encoding: "buffer"`. */
export function named(name: string, encoding: Encoding | null): string | Buffer {
  if (encoding === "buffer") return Buffer.from(name);
  return encoding && encoding !== "utf8" && encoding !== "utf-8" ? Buffer.from(name).toString(encoding) : name;
}

/** A time argument (seconds as number or numeric string, or a Date) in milliseconds. */
export function timeArg(time: unknown, name: string): number {
  if (time instanceof Date) return time.getTime();
  if (typeof time === "string" && time.trim() !== "" && Number.isFinite(Number(time))) return Number(time) * 1000;
  if (typeof time === "number" && Number.isFinite(time)) return time * 1000;
  if (typeof time === "bigint") return Number(time) * 1000;
  throw invalidArgType(name, "of type number or an instance of Date", time);
}

/** A uid or gid: validated and otherwise ignored, as there is no ownership. */
export function idArg(id: unknown, name: string): void {
  if (typeof id !== "number") throw invalidArgType(name, "of type number", id);
  if (!Number.isInteger(id) || id < -1 || id > 2 ** 32 - 1) throw outOfRange(name, ">= -1 && <= 4294967295", id);
}
