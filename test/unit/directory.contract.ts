/**
 * The contract every object directory passes (src/objects/directory.ts): the one-node
 * `LocalDirectory` now (directory.test.ts), the JetStream-backed one of the cluster later. Not a
 * test file itself: a directory's test file calls `directoryContract` with a way to make one.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import { locateIn, type ObjectAddress, type ObjectDirectory } from "../../src/objects/index.js";

export interface DirectoryUnderTest {
  directory: ObjectDirectory;
  /** Stops what the directory needs (a NATS connection, say); called once, after the suite. */
  close?(): Promise<void>;
}

/** `make(pools)` builds a directory for one node running the apps of `pools` (app → isolates). */
export function directoryContract(name: string, make: (pools: Record<string, number>) => Promise<DirectoryUnderTest>): void {
  describe(`object directory contract: ${name}`, async () => {
    const pools = { shop: 4, solo: 1 };
    const under = await make(pools);
    const { directory } = under;
    after(() => under.close?.());

    const address = (app: string, objectName?: string): ObjectAddress => ({
      app,
      className: "Cart",
      id: randomBytes(32).toString("hex"),
      name: objectName,
    });
    const many = (app: string, n = 300) => Array.from({ length: n }, () => address(app));

    test("an object nobody placed elsewhere lives in an isolate of its app's pool on this node", () => {
      for (const a of many("shop")) {
        const route = directory.locate(a);
        assert.equal(route.kind, "isolate");
        assert.ok(Number.isInteger(route.poolIndex) && route.poolIndex >= 0 && route.poolIndex < pools.shop, JSON.stringify(route));
      }
    });

    test("the same object gets the same answer every time, with or without its name", () => {
      for (const a of many("shop", 50)) {
        const first = directory.locate(a);
        assert.deepEqual(directory.locate({ ...a }), first);
        assert.deepEqual(directory.locate({ ...a, name: "some-name" }), first);
      }
    });

    test("objects spread over every isolate of the pool", () => {
      const used = new Set(many("shop").map((a) => directory.locate(a).poolIndex));
      assert.deepEqual([...used].sort(), [0, 1, 2, 3]);
    });

    test("apps are placed each in its own pool: a one-isolate app has every object in isolate 0", () => {
      for (const a of many("solo", 50)) assert.deepEqual(directory.locate(a), { kind: "isolate", poolIndex: 0 });
    });

    test("the placement handed to an isolate is plain data and answers as the directory does", () => {
      for (const app of Object.keys(pools)) {
        const placement = directory.placementOf(app);
        assert.deepEqual(structuredClone(placement), placement);
        assert.equal(placement.app, app);
        for (const a of many(app, 100)) assert.deepEqual(locateIn(placement, a), directory.locate(a), a.id);
      }
    });

    test("claiming and releasing an object leaves it where it is; a second claim by its owner succeeds", async () => {
      const a = address("shop", "claimed");
      const before = directory.locate(a);
      await directory.claim(a);
      await directory.claim(a);
      assert.deepEqual(directory.locate(a), before);
      await directory.release(a);
      assert.deepEqual(directory.locate(a), before);
    });
  });
}
