// Tab sharing in Chromium: ten tabs of one origin (HTTP/1.1) with `shared: true` receive every
// event over ONE connection (counted at the server), and when the leader tab closes the next one
// takes over with Last-Event-ID: every remaining tab gets every event, in order, once. A leader
// hidden for the back/forward cache hands over at once and catches up when it comes back.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { bundleClientGlobal, injectClient, launchChromium } from "../support/browser.js";
import { type FixtureServer, startFixtureServer } from "../support/fixture-server.js";

let server: FixtureServer;
let browser: Browser;
let context: BrowserContext;
before(async () => {
  server = await startFixtureServer();
  browser = await launchChromium();
  context = await browser.newContext();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

// Strings, not functions: tsx's keepNames helpers do not exist in the page.
const SUBSCRIBE = `{
  globalThis.seen = [];
  globalThis.opens = 0;
  const source = new ssekit.EventSource("/live", { shared: true });
  source.onmessage = (m) => globalThis.seen.push(m.lastEventId + ":" + m.data);
  source.onopen = () => { globalThis.opens++; };
  globalThis.source = source;
}`;

async function openTab(bundle: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.origin}/page`);
  await injectClient(page, bundle);
  await page.evaluate(SUBSCRIBE);
  await page.waitForFunction("globalThis.source.readyState === 1");
  return page;
}

const seen = (page: Page) => page.evaluate("globalThis.seen") as Promise<string[]>;

describe("shared: true in Chromium", { timeout: 60000 }, () => {
  test("ten tabs share one connection and survive the leader tab closing without a lost or repeated event", async () => {
    const bundle = await bundleClientGlobal();
    const streamRequests = () =>
      server.log.filter((r) => r.path === "/live" && r.accept === "text/event-stream");
    const tabs: Page[] = [];
    for (let i = 0; i < 10; i++) tabs.push(await openTab(bundle));
    assert.equal(server.openStreams(), 1, "one SSE connection for ten tabs");
    assert.equal(streamRequests().length, 1);

    const expected: string[] = [];
    const publish = (n: number) => {
      for (let i = 0; i < n; i++) {
        const event = server.publish(`event ${expected.length + 1}`);
        expected.push(`${event.id}:${event.data}`);
      }
    };
    publish(5);
    for (const tab of tabs) await tab.waitForFunction(`globalThis.seen.length >= ${expected.length}`);
    for (const tab of tabs) assert.deepEqual(await seen(tab), expected);

    // Across the leader closing: some events before, some while nobody holds the connection.
    const [leader, ...rest] = tabs;
    assert.ok(leader);
    publish(3);
    await leader.close();
    publish(3);
    await server.waitForStreams((open) => open === 1);
    publish(2);
    for (const tab of rest) await tab.waitForFunction(`globalThis.seen.length >= ${expected.length}`);
    for (const tab of rest) assert.deepEqual(await seen(tab), expected, "every event, in order, once");
    assert.equal(server.openStreams(), 1, "still one SSE connection after the takeover");
    const resumed = streamRequests().at(-1);
    assert.ok(resumed && resumed.lastEventId !== null, "the new leader resumed with Last-Event-ID");
    for (const tab of rest)
      assert.equal(await tab.evaluate("globalThis.opens"), 1, "the takeover is invisible");
    for (const tab of rest) await tab.evaluate("globalThis.source.close()");
    await server.waitForStreams((open) => open === 0);
  });

  test("a leader hidden for the back/forward cache hands over at once, and back it catches up on its own connection", async () => {
    const bundle = await bundleClientGlobal();
    const streamRequests = () =>
      server.log.filter((r) => r.path === "/live" && r.accept === "text/event-stream");
    const before = streamRequests().length;
    const leader = await openTab(bundle);
    const follower = await openTab(bundle);
    assert.equal(server.openStreams(), 1);

    const expected: string[] = [];
    const publish = (n: number) => {
      for (let i = 0; i < n; i++) {
        const event = server.publish(`bf ${expected.length + 1}`);
        expected.push(`${event.id}:${event.data}`);
      }
    };
    const caughtUp = (tab: Page) => tab.waitForFunction(`globalThis.seen.length >= ${expected.length}`);
    publish(3);
    for (const tab of [leader, follower]) await caughtUp(tab);

    // Hidden: the leader lets go without closing its tab, so the follower leads and resumes.
    await leader.evaluate(`dispatchEvent(new PageTransitionEvent("pagehide", { persisted: true }))`);
    await server.waitForStreams((open) => open === 1 && streamRequests().length === before + 2);
    publish(4);
    await caughtUp(follower);
    assert.equal((await seen(leader)).length, 3, "a hidden page hears nothing");

    // Back: the old leader resumes on a connection of its own from the last id it saw.
    await leader.evaluate(`dispatchEvent(new PageTransitionEvent("pageshow", { persisted: true }))`);
    await server.waitForStreams((open) => open === 2 && streamRequests().length === before + 3);
    publish(2);
    for (const tab of [leader, follower]) await caughtUp(tab);
    for (const tab of [leader, follower])
      assert.deepEqual(await seen(tab), expected, "every event, in order, once");
    const own = streamRequests().at(-1);
    assert.equal(own?.lastEventId, expected[2]?.split(":")[0], "resumed after the last event it saw");
    for (const tab of [leader, follower]) assert.equal(await tab.evaluate("globalThis.opens"), 1);
    for (const tab of [leader, follower]) await tab.evaluate("globalThis.source.close()");
    await server.waitForStreams((open) => open === 0);
  });
});
