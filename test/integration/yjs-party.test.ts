/**
 * examples/yjs-party through the real CLI: an app built on the npm packages `partyserver` and
 * `y-partyserver`, run unmodified.
 * - Two Yjs documents in this process, each synced by y-partyserver's own provider (with `ws` as
 *   its WebSocket), edit the same room concurrently and converge. The room saves the document in
 *   its SQLite storage; after a restart of the CLI on the same state, a fresh client loads it.
 * - A plain partyserver `Server` on hibernatable sockets greets, relays between connections, and
 *   keeps relaying (with each connection's state) after the room was evicted and woke up again.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import YProvider from "y-partyserver/provider";
import * as Y from "yjs";
import { eventually, REPO, removeDir, startLedge, type RunningLedge } from "../helpers/ledge.js";

const APP = join(REPO, "examples", "yjs-party");
/** Idle time after which a room holding only hibernatable sockets is evicted (the CLI's --hibernate-ms). */
const HIBERNATE_MS = 100;
/** y-partyserver saves 2 s after the last edit (its default debounce); this bounds the wait for it. */
const SAVE_TIMEOUT_MS = 8_000;

let ledge: RunningLedge;
let stateDir: string;
const providers: YProvider[] = [];
const sockets: WebSocket[] = [];

async function start(): Promise<RunningLedge> {
  return startLedge(APP, { args: ["--persist-to", stateDir, "--no-access-log", "--hibernate-ms", String(HIBERNATE_MS)] });
}

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "ledge-yjs-state-"));
  ledge = await start();
});

after(async () => {
  for (const p of providers) p.destroy();
  for (const ws of sockets) ws.terminate();
  await ledge?.stop();
  removeDir(stateDir);
});

/** A Yjs document synced with `room` through y-partyserver's provider; resolves once synced. */
async function openDoc(room: string): Promise<{ doc: Y.Doc; text: Y.Text; provider: YProvider }> {
  const doc = new Y.Doc();
  const provider = new YProvider(`127.0.0.1:${ledge.port}`, room, doc, {
    party: "shared-doc",
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
  });
  providers.push(provider);
  await eventually(() => provider.synced, `the provider of ${room} to finish its first sync`, 5_000);
  return { doc, text: doc.getText("content"), provider };
}

function close(provider: YProvider): void {
  provider.destroy();
  providers.splice(providers.indexOf(provider), 1);
}

/** The document the room last saved (`GET /parties/shared-doc/<room>`), as text, or null. */
async function savedText(room: string): Promise<string | null> {
  const res = await fetch(`${ledge.url}/parties/shared-doc/${room}`);
  if (res.status === 404) return null;
  assert.equal(res.status, 200);
  const doc = new Y.Doc();
  Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()));
  return doc.getText("content").toString();
}

describe("y-partyserver (YServer + YProvider)", () => {
  test("two providers converge on one document, which survives a restart", async () => {
    const room = `doc-${Date.now()}`;
    const a = await openDoc(room);
    const b = await openDoc(room);

    // Concurrent edits: each side edits before it has seen the other's.
    a.text.insert(0, "alpha ");
    b.text.insert(0, "beta ");
    b.doc.getMap("meta").set("title", "shared");
    await eventually(
      () => a.text.toString() === b.text.toString() && a.text.length === "alpha beta ".length,
      "both documents to hold both edits",
      5_000,
    );
    a.text.insert(a.text.length, "gamma");
    await eventually(() => b.text.toString().endsWith("gamma"), "a's second edit to reach b", 5_000);
    const final = a.text.toString();
    assert.equal(b.text.toString(), final);
    assert.match(final, /^(alpha beta |beta alpha )gamma$/);
    assert.equal(a.doc.getMap("meta").get("title"), "shared");

    await eventually(async () => (await savedText(room)) === final, "the room to save the final document", SAVE_TIMEOUT_MS);
    close(a.provider);
    close(b.provider);

    await ledge.stop();
    ledge = await start();
    const c = await openDoc(room);
    assert.equal(c.text.toString(), final);
    assert.equal(c.doc.getMap("meta").get("title"), "shared");
    close(c.provider);
  });

  test("rooms are separate documents", async () => {
    const stamp = Date.now();
    const one = await openDoc(`one-${stamp}`);
    const two = await openDoc(`two-${stamp}`);
    one.text.insert(0, "only in one");
    const again = await openDoc(`one-${stamp}`);
    assert.equal(again.text.toString(), "only in one");
    // A client synced after the edit sees it, so had room two shared the document it would have it too.
    const twoAgain = await openDoc(`two-${stamp}`);
    assert.equal(twoAgain.text.toString(), "");
    assert.equal(two.text.toString(), "");
  });
});

interface RelayEvent {
  type: string;
  id?: string;
  room?: string;
  from?: string;
  text?: string;
}

/** A `ws` client of a relay room that queues what it receives. */
async function joinRelay(room: string, user: string): Promise<{ ws: WebSocket; next(): Promise<RelayEvent> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${ledge.port}/parties/relay/${room}?user=${user}`);
  sockets.push(ws);
  const queue: RelayEvent[] = [];
  const waiters: ((e: RelayEvent) => void)[] = [];
  ws.on("message", (data) => {
    const e = JSON.parse(String(data)) as RelayEvent;
    const w = waiters.shift();
    if (w) w(e);
    else queue.push(e);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const next = () =>
    new Promise<RelayEvent>((resolve, reject) => {
      const queued = queue.shift();
      if (queued) return resolve(queued);
      const timer = setTimeout(() => reject(new Error(`${user} received nothing within 5 s`)), 5_000);
      waiters.push((e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
  return { ws, next };
}

async function relayStatus(room: string): Promise<{ room: string; online: string[]; awakeSince: number }> {
  const res = await fetch(`${ledge.url}/parties/relay/${room}`);
  assert.equal(res.status, 200);
  return (await res.json()) as { room: string; online: string[]; awakeSince: number };
}

describe("partyserver (Server, hibernating)", () => {
  test("greets, relays to the others, and keeps relaying after the room hibernated", async () => {
    const room = `relay-${Date.now()}`;
    const alice = await joinRelay(room, "alice");
    const welcome = await alice.next();
    assert.equal(welcome.type, "welcome");
    assert.equal(welcome.room, room);
    assert.match(welcome.id ?? "", /.+/);
    const bob = await joinRelay(room, "bob");
    assert.equal((await bob.next()).type, "welcome");

    alice.ws.send("hi bob");
    assert.deepEqual(await bob.next(), { type: "message", from: "alice", text: "hi bob" });
    // The sender is excluded: the next thing alice hears is bob's reply, not her own message.
    bob.ws.send("hi alice");
    assert.deepEqual(await alice.next(), { type: "message", from: "bob", text: "hi alice" });

    const before = await relayStatus(room);
    assert.deepEqual(before.online.sort(), ["alice", "bob"]);
    // Each poll wakes the room, so poll less often than it takes to evict it.
    const woken = await eventually(
      async () => {
        const s = await relayStatus(room);
        return s.awakeSince !== before.awakeSince ? s : null;
      },
      "the room to be evicted and woken as a new instance",
      5_000,
      HIBERNATE_MS * 4,
    );
    assert.equal(woken.room, room);
    assert.deepEqual(woken.online.sort(), ["alice", "bob"]);

    bob.ws.send("still there?");
    assert.deepEqual(await alice.next(), { type: "message", from: "bob", text: "still there?" });
  });

  test("unknown parties and paths", async () => {
    assert.equal((await fetch(`${ledge.url}/parties/nope/room`)).status, 400);
    assert.equal((await fetch(`${ledge.url}/elsewhere`)).status, 404);
  });
});
