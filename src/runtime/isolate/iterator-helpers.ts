/**
 * Iterator helpers (ES2025: `Iterator`, `Iterator.from`, and `map`, `filter`, `take`, `drop`,
 * `flatMap`, `reduce`, `toArray`, `forEach`, `some`, `every`, `find` on every iterator). Workers has
 * them; Node 20's V8 does not (Node 22 does), and npm packages written for Workers call them, e.g.
 * partyserver's `map.values().filter(...)`. Installed only where missing.
 *
 * The lazy helpers are generators, so they chain and close the source like the real ones: a
 * `for...of` over the source calls its `return()` when the helper stops early, is returned, or a
 * callback throws, and does not when the source itself threw or ran out. Differences left in:
 * the helper objects are generators (their `toString` tag says so), and a source's `next` method is
 * read when the helper starts rather than when it is made.
 */

type Fn = (value: unknown, index: number) => unknown;
type Iter = Iterator<unknown>;

/** `for...of` over an iterator that need not be iterable itself. */
function each(it: Iter): Iterable<unknown> {
  return { [Symbol.iterator]: () => it };
}

function callable(fn: unknown, method: string): Fn {
  if (typeof fn !== "function") throw new TypeError(`Iterator.prototype.${method}: ${String(fn)} is not a function`);
  return fn as Fn;
}

function count(limit: unknown, method: string): number {
  const n = Number(limit);
  if (Number.isNaN(n)) throw new RangeError(`Iterator.prototype.${method}: ${String(limit)} is not a number`);
  const int = Math.trunc(n);
  if (int < 0) throw new RangeError(`Iterator.prototype.${method}: ${String(limit)} must be positive`);
  return int;
}

function* mapping(it: Iter, fn: Fn): Generator<unknown, void> {
  let i = 0;
  for (const v of each(it)) yield fn(v, i++);
}

function* filtering(it: Iter, fn: Fn): Generator<unknown, void> {
  let i = 0;
  for (const v of each(it)) if (fn(v, i++)) yield v;
}

function* taking(it: Iter, limit: number): Generator<unknown, void> {
  if (limit === 0) {
    it.return?.();
    return;
  }
  let n = 0;
  for (const v of each(it)) {
    yield v;
    if (++n >= limit) return;
  }
}

function* dropping(it: Iter, limit: number): Generator<unknown, void> {
  let n = 0;
  for (const v of each(it)) {
    if (n < limit) n++;
    else yield v;
  }
}

function* flatMapping(it: Iter, fn: Fn): Generator<unknown, void> {
  let i = 0;
  for (const v of each(it)) {
    const inner = fn(v, i++);
    if (inner === null || (typeof inner !== "object" && typeof inner !== "function")) {
      throw new TypeError("Iterator.prototype.flatMap: the callback must return an iterator or an iterable object");
    }
    const method = (inner as Partial<Iterable<unknown>>)[Symbol.iterator];
    yield* each(typeof method === "function" ? method.call(inner) : (inner as Iter));
  }
}

export function installIteratorHelpers(): void {
  const g = globalThis as Record<string, unknown>;
  const proto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as Record<string, unknown>;
  if (typeof proto.map === "function" && typeof g.Iterator === "function") return;

  const methods: Record<string, (this: Iter, ...args: unknown[]) => unknown> = {
    map(fn) {
      return mapping(this, callable(fn, "map"));
    },
    filter(fn) {
      return filtering(this, callable(fn, "filter"));
    },
    take(limit) {
      return taking(this, count(limit, "take"));
    },
    drop(limit) {
      return dropping(this, count(limit, "drop"));
    },
    flatMap(fn) {
      return flatMapping(this, callable(fn, "flatMap"));
    },
    reduce(...args) {
      const fn = callable(args[0], "reduce");
      let i = 0;
      let acc: unknown;
      if (args.length >= 2) acc = args[1];
      else {
        const first = this.next();
        if (first.done) throw new TypeError("Reduce of empty iterator with no initial value");
        acc = first.value;
        i = 1;
      }
      for (const v of each(this)) acc = (fn as (a: unknown, v: unknown, i: number) => unknown)(acc, v, i++);
      return acc;
    },
    toArray() {
      return [...each(this)];
    },
    forEach(fn) {
      const f = callable(fn, "forEach");
      let i = 0;
      for (const v of each(this)) f(v, i++);
      return undefined;
    },
    some(fn) {
      const f = callable(fn, "some");
      let i = 0;
      for (const v of each(this)) if (f(v, i++)) return true;
      return false;
    },
    every(fn) {
      const f = callable(fn, "every");
      let i = 0;
      for (const v of each(this)) if (!f(v, i++)) return false;
      return true;
    },
    find(fn) {
      const f = callable(fn, "find");
      let i = 0;
      for (const v of each(this)) if (f(v, i++)) return v;
      return undefined;
    },
  };
  for (const [name, fn] of Object.entries(methods)) {
    if (typeof proto[name] !== "function") {
      Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false });
    }
  }

  if (typeof g.Iterator !== "function") {
    // An abstract class: `class Foo extends Iterator` works, `new Iterator()` does not.
    const Iterator = function Iterator(this: unknown) {
      if (new.target === undefined || new.target === Iterator) throw new TypeError("Iterator is an abstract class");
    } as unknown as { prototype: unknown; from(o: unknown): Iter };
    Object.defineProperty(Iterator, "prototype", { value: proto, writable: false, enumerable: false, configurable: false });
    Object.defineProperty(proto, "constructor", { value: Iterator, writable: true, configurable: true, enumerable: false });
    Object.defineProperty(Iterator, "from", {
      value: function from(o: unknown): Iter {
        if (o === null || o === undefined) throw new TypeError("Iterator.from: argument is not an object");
        const method = typeof o === "string" ? String.prototype[Symbol.iterator] : (o as Partial<Iterable<unknown>>)[Symbol.iterator];
        const it = (typeof method === "function" ? method.call(o) : o) as Iter;
        if (Object.prototype.isPrototypeOf.call(proto, it)) return it;
        // A bare iterator ({ next() {...} }): wrap it so the helpers apply.
        return mapping(it, (v) => v);
      },
      writable: true,
      configurable: true,
      enumerable: false,
    });
    Object.defineProperty(g, "Iterator", { value: Iterator, writable: true, configurable: true, enumerable: false });
  }
}
