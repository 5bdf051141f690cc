/**
 * `env.MY_DO`: the Durable Object namespace binding and its stubs.
 * A stub is a handle: creating one costs nothing; the object starts on the first call.
 */
import { NotSupportedError } from "../shared/errors.js";
import type { ObjectAddress } from "./address.js";
import { DurableObjectId, IdMinter } from "./id.js";

type RequestInfo = string | URL | Request;

export interface ObjectRouter {
  fetch(address: ObjectAddress, request: Request): Promise<Response>;
  rpc(address: ObjectAddress, method: string, args: unknown[]): Promise<unknown>;
}

export class DurableObjectNamespace {
  readonly #app: string;
  readonly #className: string;
  readonly #minter: IdMinter;
  readonly #router: ObjectRouter;

  /** `key` names the namespace (see naming.ts): it seeds the id MAC. */
  constructor(app: string, className: string, key: string, router: ObjectRouter) {
    this.#app = app;
    this.#className = className;
    this.#minter = new IdMinter(key);
    this.#router = router;
  }

  idFromName(name: string): DurableObjectId {
    if (typeof name !== "string") throw new TypeError("idFromName() expects a string");
    return new DurableObjectId(this.#minter.fromName(name), name);
  }

  newUniqueId(options?: { jurisdiction?: string }): DurableObjectId {
    if (options?.jurisdiction) throw new NotSupportedError("Durable Object jurisdictions");
    return new DurableObjectId(this.#minter.unique());
  }

  idFromString(hex: string): DurableObjectId {
    return new DurableObjectId(this.#minter.check(hex));
  }

  get(id: DurableObjectId, _options?: { locationHint?: string; routingMode?: string }): DurableObjectStub {
    if (!(id instanceof DurableObjectId)) throw new TypeError("get() expects a DurableObjectId");
    // Re-check: an id made by another namespace must not reach this class's storage.
    this.#minter.check(id.toString());
    return createStub({ app: this.#app, className: this.#className, id: id.toString(), name: id.name }, id, this.#router);
  }

  getByName(name: string, options?: { locationHint?: string }): DurableObjectStub {
    return this.get(this.idFromName(name), options);
  }

  jurisdiction(_j: string): DurableObjectNamespace {
    throw new NotSupportedError("Durable Object jurisdictions");
  }

  getExisting(): never {
    throw new NotSupportedError("DurableObjectNamespace.getExisting()");
  }
}

export interface DurableObjectStub {
  readonly id: DurableObjectId;
  readonly name: string | undefined;
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  connect(): never;
  [method: string]: unknown;
}

class StubBase {
  readonly id: DurableObjectId;
  readonly name: string | undefined;
  readonly #address: ObjectAddress;
  readonly #router: ObjectRouter;
  constructor(address: ObjectAddress, id: DurableObjectId, router: ObjectRouter) {
    this.#address = address;
    this.id = id;
    this.name = id.name;
    this.#router = router;
  }
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    let req: Request;
    try {
      if (typeof input === "string" && !/^[a-z][a-z0-9+.-]*:/i.test(input)) {
        throw new TypeError(`Fetch API cannot load: ${input} (Durable Object stubs need an absolute URL)`);
      }
      req = input instanceof Request && init === undefined ? input : new Request(input as RequestInfo, init);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#router.fetch(this.#address, req);
  }
  connect(): never {
    throw new NotSupportedError("Durable Object stub connect()");
  }
  call(method: string, args: unknown[]): Promise<unknown> {
    return this.#router.rpc(this.#address, method, args);
  }
}

const OWN = new Set(["id", "name", "fetch", "connect"]);

function createStub(address: ObjectAddress, id: DurableObjectId, router: ObjectRouter): DurableObjectStub {
  const base = new StubBase(address, id, router);
  return new Proxy(base, {
    get(target, prop) {
      if (typeof prop === "symbol") return undefined;
      if (OWN.has(prop)) {
        const v = (target as unknown as Record<string, unknown>)[prop];
        return typeof v === "function" ? v.bind(target) : v;
      }
      // `await stub` must not treat the stub as a thenable.
      if (prop === "then") return undefined;
      return rpcMember(target, prop);
    },
  }) as unknown as DurableObjectStub;
}

/** `stub.method(...args)` calls it; `await stub.property` reads it (both are RPC round trips). */
function rpcMember(stub: StubBase, name: string): unknown {
  const call = (...args: unknown[]) => stub.call(name, args);
  const fn = call as typeof call & { then?: unknown };
  fn.then = (onOk: (v: unknown) => unknown, onErr: (e: unknown) => unknown) => stub.call(name, []).then(onOk, onErr);
  return fn;
}
