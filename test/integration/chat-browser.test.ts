/**
 * examples/chat in a real browser: Chromium, driven by playwright-core, loads the page the Worker
 * serves, and two pages in the same room talk to each other over the ChatRoom object's
 * hibernatable WebSockets. A third page joining later gets the message from the room's history.
 *
 * The browser is `LEDGE_CHROMIUM`, else Debian's `/usr/bin/chromium`, else the one shipped in the
 * npm package `@sparticuz/chromium` (test/helpers/chromium.ts).
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { CHROMIUM_ARGS, findChromium } from "../helpers/chromium.js";
import { REPO, removeDir, startLedge, type RunningLedge } from "../helpers/ledge.js";

/** Upper bound for one message to travel page → object → other page (normally a few ms). */
const DELIVERY_TIMEOUT_MS = 5_000;

let ledge: RunningLedge;
let stateDir: string;
let profileDir: string;
let browser: BrowserContext;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "ledge-chat-state-"));
  profileDir = mkdtempSync(join(tmpdir(), "ledge-chat-profile-"));
  ledge = await startLedge(join(REPO, "examples", "chat"), { args: ["--persist-to", stateDir, "--no-access-log"] });
  const found = findChromium();
  // A persistent context is how Playwright takes a user-data-dir; a fresh one per run.
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: found.executablePath,
    env: { ...process.env, ...found.env },
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 20_000,
  });
});

after(async () => {
  await browser?.close();
  await ledge?.stop();
  removeDir(stateDir);
  removeDir(profileDir);
});

/** Opens the chat page and joins `room` as `user`; resolves once the page's socket is open. */
async function joinRoom(room: string, user: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${ledge.url}/`);
  await page.fill("#room", room);
  await page.fill("#user", user);
  await page.click("#join");
  await page.locator("#status", { hasText: /^connected$/ }).waitFor({ timeout: DELIVERY_TIMEOUT_MS });
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

describe("examples/chat in Chromium", () => {
  test("a message sent from one page appears in the other, and in a newcomer's history", async () => {
    const alice = await joinRoom("browser-room", "alice");
    const bob = await joinRoom("browser-room", "bob");

    await say(alice, "hello from alice");
    const line = bob.locator("#log p.message", { hasText: "alice: hello from alice" });
    await line.waitFor({ timeout: DELIVERY_TIMEOUT_MS });
    assert.equal(await line.count(), 1);
    // The sender sees its own message once too: the room broadcasts to every socket.
    await alice.locator("#log p.message", { hasText: "alice: hello from alice" }).waitFor({ timeout: DELIVERY_TIMEOUT_MS });

    await say(bob, "hi alice");
    await alice.locator("#log p.message", { hasText: "bob: hi alice" }).waitFor({ timeout: DELIVERY_TIMEOUT_MS });

    const carol = await joinRoom("browser-room", "carol");
    const history = carol.locator("#log p.message");
    await history.nth(1).waitFor({ timeout: DELIVERY_TIMEOUT_MS });
    assert.deepEqual(await history.allTextContents(), ["alice: hello from alice", "bob: hi alice"]);
  });

  test("rooms are separate", async () => {
    const dave = await joinRoom("room-one", "dave");
    const erin = await joinRoom("room-two", "erin");
    await say(dave, "only in room one");
    await dave.locator("#log p.message", { hasText: "dave: only in room one" }).waitFor({ timeout: DELIVERY_TIMEOUT_MS });
    // Dave's own copy has arrived, so a copy sent to erin by mistake would have been sent by now;
    // a round trip of erin's own message proves her socket has delivered everything before it.
    await say(erin, "marker");
    await erin.locator("#log p.message", { hasText: "erin: marker" }).waitFor({ timeout: DELIVERY_TIMEOUT_MS });
    assert.deepEqual(await erin.locator("#log p.message").allTextContents(), ["erin: marker"]);
  });
});
