/**
 * Iterator helpers as isolates see them. On Node 20 these run the polyfill of
 * src/runtime/isolate/iterator-helpers.ts; where Node has them natively, the same assertions check
 * that the polyfill stepped aside.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { installIteratorHelpers } from "../../src/runtime/isolate/iterator-helpers.js";

installIteratorHelpers();

interface Helpers<T> extends Iterator<T> {
  map<U>(fn: (v: T, i: number) => U): Helpers<U>;
  filter(fn: (v: T, i: number) => unknown): Helpers<T>;
  take(n: number): Helpers<T>;
  drop(n: number): Helpers<T>;
  flatMap<U>(fn: (v: T, i: number) => unknown): Helpers<U>;
  reduce<U>(fn: (acc: U, v: T, i: number) => U, init?: U): U;
  toArray(): T[];
  forEach(fn: (v: T, i: number) => void): void;
  some(fn: (v: T, i: number) => unknown): boolean;
  every(fn: (v: T, i: number) => unknown): boolean;
  find(fn: (v: T, i: number) => unknown): T | undefined;
}
const h = <T>(it: Iterator<T>) => it as Helpers<T>;
const IteratorCtor = (globalThis as unknown as { Iterator: { from<T>(o: unknown): Helpers<T>; prototype: object } }).Iterator;

/** An iterator over 1..n that records whether it was closed. */
function counting(n: number): { it: Helpers<number>; closed: () => boolean } {
  let closed = false;
  function* gen() {
    try {
      for (let i = 1; i <= n; i++) yield i;
    } finally {
      closed = true;
    }
  }
  return { it: h(gen()), closed: () => closed };
}

describe("iterator helpers", () => {
  test("map and filter chain on Map iterators (partyserver's connections.values().filter)", () => {
    const m = new Map([
      ["a", 1],
      ["b", 2],
      ["c", 3],
    ]);
    assert.deepEqual([...h(m.values()).filter((v) => v !== 2).map((v, i) => `${i}:${v}`)], ["0:1", "1:3"]);
  });

  test("take closes the source once it has enough; drop skips", () => {
    const src = counting(10);
    assert.deepEqual(src.it.take(3).toArray(), [1, 2, 3]);
    assert.equal(src.closed(), true);
    assert.deepEqual(counting(5).it.drop(3).toArray(), [4, 5]);
    assert.throws(() => counting(1).it.take(-1), RangeError);
    assert.throws(() => counting(1).it.drop(Number.NaN), RangeError);
  });

  test("returning a helper early closes its source", () => {
    const src = counting(10);
    const mapped = src.it.map((v) => v * 2);
    assert.equal(mapped.next().value, 2);
    mapped.return?.();
    assert.equal(src.closed(), true);
  });

  test("a throwing callback closes the source and propagates", () => {
    const src = counting(10);
    assert.throws(() => src.it.forEach((v) => {
      if (v === 2) throw new Error("boom");
    }), /boom/);
    assert.equal(src.closed(), true);
  });

  test("flatMap flattens iterables but not strings", () => {
    assert.deepEqual(h([1, 2].values()).flatMap((v) => [v, v * 10]).toArray(), [1, 10, 2, 20]);
    assert.throws(() => h([1].values()).flatMap(() => "no").toArray(), TypeError);
  });

  test("reduce, some, every, find", () => {
    assert.equal(counting(4).it.reduce((a: number, v) => a + v), 10);
    assert.equal(counting(4).it.reduce((a: string, v) => a + v, ""), "1234");
    assert.throws(() => counting(0).it.reduce((a: number, v) => a + v), TypeError);
    const some = counting(10);
    assert.equal(some.it.some((v) => v === 3), true);
    assert.equal(some.closed(), true);
    assert.equal(counting(3).it.every((v) => v > 0), true);
    assert.equal(counting(3).it.find((v) => v > 1), 2);
    assert.throws(() => counting(1).it.map(42 as never), TypeError);
  });

  test("Iterator.from wraps bare iterators; Iterator is an abstract base class", () => {
    let i = 0;
    const bare = { next: () => (i < 3 ? { value: i++, done: false } : { value: undefined, done: true }) };
    assert.deepEqual(IteratorCtor.from<number>(bare).map((v) => v + 1).toArray(), [1, 2, 3]);
    assert.deepEqual(IteratorCtor.from<string>("ab").toArray(), ["a", "b"]);
    assert.throws(() => new (IteratorCtor as unknown as new () => unknown)(), TypeError);
    class Countdown extends (IteratorCtor as unknown as new () => object) {
      n = 2;
      next() {
        return this.n > 0 ? { value: this.n--, done: false } : { value: undefined, done: true };
      }
    }
    assert.deepEqual((new Countdown() as unknown as Helpers<number>).toArray(), [2, 1]);
  });
});
