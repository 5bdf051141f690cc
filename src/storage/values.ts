/**
 * Values of the KV-style API are stored as V8 structured-clone bytes, like workerd does.
 *
 * We use the base `v8.Serializer`, not `v8.serialize()`: Node's default serializer writes typed
 * arrays as Node "host objects" and reads a Uint8Array back as a `Buffer`, while the base class
 * lets V8 encode them natively, so a Uint8Array comes back as a plain Uint8Array (and the bytes
 * have the same shape as workerd's).
 */
import { Buffer } from "node:buffer";
import v8 from "node:v8";

export function serializeValue(value: unknown): Buffer {
  const serializer = new v8.Serializer();
  serializer.writeHeader();
  try {
    serializer.writeValue(value);
  } catch (err) {
    // V8 reports uncloneable values (functions, symbols, class instances with private state)
    // with a plain Error; the Workers API throws a DataCloneError DOMException.
    const message = err instanceof Error ? err.message : String(err);
    throw new DOMException(message, "DataCloneError");
  }
  return serializer.releaseBuffer();
}

export function deserializeValue(bytes: Uint8Array): unknown {
  const deserializer = new v8.Deserializer(bytes);
  deserializer.readHeader();
  return deserializer.readValue();
}
