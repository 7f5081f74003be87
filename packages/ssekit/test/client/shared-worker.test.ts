// Tab sharing through a SharedWorker (`shared: { worker }`) in Chromium, on an HTTP/1.1 origin:
// ten tabs receive every event over ONE connection (counted at the server) that the worker holds,
// so closing the first tab costs nothing (no reconnect at all); the connection closes when the
// last tab leaves, also when a tab vanishes without saying goodbye; a tab back from the
// back/forward cache gets what it missed; and where SharedWorker is missing or its script does not
// load, the tabs still share one connection through the Web Locks leader.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { EventSource } from "ssekit/client";
import type { TabMessage } from "../../src/client/shared-port.js";
import { bundleClientGlobal, bundleSharedWorker, injectClient, launchChromium } from "../support/browser.js";
import { type SharingOrigin, startSharingOrigin } from "./shared-worker-support.js";

let browser: Browser;
let client: string;
let workerScript: string;
before(async () => {
  [client, workerScript] = await Promise.all([bundleClientGlobal(), bundleSharedWorker()]);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

let server: SharingOrigin;
let context: BrowserContext;
beforeEach(async () => {
  server = await startSharingOrigin(workerScript);
  context = await browser.newContext();
});
afterEach(async () => {
  await context?.close();
  await server?.close();
});

// Strings, not functions: tsx's keepNames helpers do not exist in the page.
const subscribe = (shared: string) => `{
  globalThis.seen = [];
  globalThis.opens = 0;
  globalThis.errors = 0;
  const source = new ssekit.EventSource("/live", { shared: ${shared} });
  source.onmessage = (m) => globalThis.seen.push(m.lastEventId + ":" + m.data);
  source.onopen = () => { globalThis.opens++; };
  source.onerror = () => { globalThis.errors++; };
  globalThis.source = source;
}`;
const WORKER = `{ worker: "/shared-worker.js" }`;

/** Opens a tab on the origin; `before` runs in the page before the client is loaded. */
async function openTab(shared: string, before = ""): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.origin}/page`);
  if (before !== "") await page.evaluate(before);
  await injectClient(page, client);
  await page.evaluate(subscribe(shared));
  await page.waitForFunction("globalThis.source.readyState === 1");
  return page;
}

const seen = (page: Page) => page.evaluate("globalThis.seen") as Promise<string[]>;
const streamRequests = () => server.log.filter((r) => r.path === "/live");
const workerRequests = () => server.log.filter((r) => r.path === "/shared-worker.js");

async function publishAndCheck(tabs: readonly Page[], expected: string[], n: number): Promise<void> {
  for (let i = 0; i < n; i++) expected.push(server.publish(`event ${expected.length + 1}`));
  for (const tab of tabs) await tab.waitForFunction(`globalThis.seen.length >= ${expected.length}`);
  for (const tab of tabs) assert.deepEqual(await seen(tab), expected, "every event, in order, once");
}

describe("shared: { worker } in Chromium", { timeout: 90000 }, () => {
  test("ten tabs share one connection held by the worker; the first tab closing loses nothing; the last closing ends it", async () => {
    const tabs: Page[] = [];
    for (let i = 0; i < 10; i++) tabs.push(await openTab(WORKER));
    assert.equal(server.openStreams(), 1, "one SSE connection for ten tabs");
    assert.equal(streamRequests().length, 1);
    assert.ok(workerRequests().length >= 1, "the worker script was loaded");

    const expected: string[] = [];
    await publishAndCheck(tabs, expected, 5);

    const [first, ...rest] = tabs;
    assert.ok(first);
    for (let i = 0; i < 3; i++) expected.push(server.publish(`event ${expected.length + 1}`));
    await first.close();
    await publishAndCheck(rest, expected, 4);
    assert.equal(streamRequests().length, 1, "the worker kept its connection: no reconnect at all");
    for (const tab of rest) {
      assert.equal(await tab.evaluate("globalThis.opens"), 1);
      assert.equal(await tab.evaluate("globalThis.errors"), 0);
    }

    // Every tab but one closes its source, then the last tab goes away: the server sees the end.
    const last = rest.pop();
    assert.ok(last);
    for (const tab of rest) await tab.evaluate("globalThis.source.close()");
    await publishAndCheck([last], expected, 1);
    assert.equal(server.openStreams(), 1);
    await last.close();
    await server.waitForStreams((open) => open === 0);
  });

  test("a tab that joins a running connection is open at once and hears what comes next", async () => {
    const first = await openTab(WORKER);
    const before = server.publish("before the second tab");
    await first.waitForFunction("globalThis.seen.length === 1");
    const second = await openTab(WORKER);
    const next = server.publish("after");
    await second.waitForFunction("globalThis.seen.length === 1");
    await first.waitForFunction("globalThis.seen.length === 2");
    assert.deepEqual(await seen(second), [next]);
    assert.deepEqual(await seen(first), [before, next]);
    assert.equal(streamRequests().length, 1);
  });

  // What the client hears from the browser when its page goes into, and comes back from, the
  // back/forward cache: the page stays alive here, so what it receives meanwhile is observable.
  const hide = (tab: Page) =>
    tab.evaluate(`dispatchEvent(new PageTransitionEvent("pagehide", { persisted: true }))`);
  const show = (tab: Page) =>
    tab.evaluate(`dispatchEvent(new PageTransitionEvent("pageshow", { persisted: true }))`);

  /**
   * Resolves once the origin has `held` tab locks held and `pending` requested besides tab 1's
   * (which holds its own, the worker waiting for it); asks the lock manager again on each answer.
   */
  const tabLocks = (held: number, pending: number) => `(async () => {
    const mine = (list) => list.filter((l) => l.name.startsWith("ssekit-tab:")).length;
    for (let asked = 0; asked < 10000; asked++) {
      const state = await navigator.locks.query();
      if (mine(state.held) === ${held} + 1 && mine(state.pending) === ${pending} + 1) return true;
    }
    return false;
  })()`;

  test("a tab back from the back/forward cache gets the events it missed, once, in order, before live ones, on the same connection", async () => {
    const one = await openTab(WORKER);
    const two = await openTab(WORKER);
    const expected: string[] = [];
    await publishAndCheck([one, two], expected, 3);

    // Hidden, the tab holds no lock (a held lock can keep a page out of the cache); shown again,
    // it holds it and the worker waits for it, so a crash is noticed as before.
    await hide(two);
    assert.equal(await two.evaluate(tabLocks(0, 0)), true, "hidden: no lock held or awaited for it");
    for (let i = 0; i < 5; i++) expected.push(server.publish(`while hidden ${i + 1}`));
    await one.waitForFunction(`globalThis.seen.length >= ${expected.length}`);
    assert.deepEqual(await seen(one), expected);
    assert.deepEqual(await seen(two), expected.slice(0, 3), "detached: the hidden tab heard none of them");

    await show(two);
    await two.waitForFunction(`globalThis.seen.length >= ${expected.length}`);
    assert.deepEqual(await seen(two), expected, "the missed events, replayed in order");
    assert.equal(await two.evaluate(tabLocks(1, 1)), true, "back: its lock held, the worker waiting");
    await publishAndCheck([one, two], expected, 2);
    assert.equal(streamRequests().length, 1, "still the one connection");
    assert.equal(server.openStreams(), 1);
    for (const tab of [one, two]) {
      assert.equal(await tab.evaluate("globalThis.opens"), 1);
      assert.equal(await tab.evaluate("globalThis.errors"), 0);
    }

    // A second stay in the cache, with nothing sent meanwhile: nothing replayed, nothing repeated.
    await hide(two);
    await show(two);
    await publishAndCheck([one, two], expected, 1);
  });

  test("a tab back after more events than the worker keeps resumes on a connection of its own from its last event id", async () => {
    const one = await openTab(WORKER);
    const two = await openTab(WORKER);
    const expected: string[] = [];
    await publishAndCheck([one, two], expected, 2);

    await hide(two);
    for (let i = 0; i < 600; i++) expected.push(server.publish(`while hidden ${i + 1}`));
    await one.waitForFunction(`globalThis.seen.length >= ${expected.length}`);
    assert.equal((await seen(two)).length, 2, "detached: the hidden tab heard none of them");

    await show(two);
    await two.waitForFunction(`globalThis.seen.length >= ${expected.length}`);
    assert.deepEqual(await seen(two), expected, "every missed event, replayed by the server, in order");
    assert.equal(server.openStreams(), 2, "the worker's connection and the tab's own");
    assert.equal(streamRequests().at(-1)?.lastEventId, expected[1]?.split(":")[0], "with Last-Event-ID");
    await publishAndCheck([one, two], expected, 2);
    assert.equal(await two.evaluate("globalThis.errors"), 0);
    assert.equal(await two.evaluate("globalThis.opens"), 1);
  });

  test("the last tab back from the back/forward cache opens a new connection that resumes from its last event id", async () => {
    const tab = await openTab(WORKER);
    const expected: string[] = [];
    await publishAndCheck([tab], expected, 2);
    await hide(tab);
    await server.waitForStreams((open) => open === 0);
    for (let i = 0; i < 3; i++) expected.push(server.publish(`while hidden ${i + 1}`));
    await show(tab);
    await tab.waitForFunction(`globalThis.seen.length >= ${expected.length}`);
    assert.deepEqual(await seen(tab), expected, "replayed by the server");
    assert.equal(streamRequests().length, 2);
    assert.equal(streamRequests().at(-1)?.lastEventId, expected[1]?.split(":")[0], "with Last-Event-ID");
    await publishAndCheck([tab], expected, 1);
  });

  test("the last tab closing its source ends the connection, and a new tab starts a new one", async () => {
    const tab = await openTab(WORKER);
    await tab.evaluate("globalThis.source.close()");
    await server.waitForStreams((open) => open === 0);
    const again = await openTab(WORKER);
    await server.waitForStreams((open) => open === 1);
    const event = server.publish("again");
    await again.waitForFunction("globalThis.seen.length === 1");
    assert.deepEqual(await seen(again), [event]);
  });

  test("a dropped stream is one reconnect for all tabs: each sees error then open, and nothing is lost", async () => {
    const tabs = [await openTab(WORKER), await openTab(WORKER), await openTab(WORKER)];
    const expected: string[] = [];
    await publishAndCheck(tabs, expected, 2);
    server.dropStreams();
    for (const tab of tabs) await tab.waitForFunction("globalThis.opens === 2");
    await publishAndCheck(tabs, expected, 2);
    for (const tab of tabs) assert.equal(await tab.evaluate("globalThis.errors"), 1);
    assert.equal(streamRequests().length, 2, "one reconnect, by the worker");
    assert.equal(streamRequests().at(-1)?.lastEventId, expected[1]?.split(":")[0], "with Last-Event-ID");
  });

  test("a response that ends the source for good closes it in every tab with the same error", async () => {
    const pages: Page[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage();
      await page.goto(`${server.origin}/page`);
      await injectClient(page, client);
      await page.evaluate(`{
        globalThis.failures = [];
        const source = new ssekit.EventSource("/no-content", { shared: ${WORKER} });
        source.onerror = (e) => globalThis.failures.push([source.readyState, e.error.code, e.error.status]);
      }`);
      pages.push(page);
    }
    for (const page of pages) {
      await page.waitForFunction("globalThis.failures.length > 0");
      assert.deepEqual(await page.evaluate("globalThis.failures"), [[2, "HTTP_STATUS", 204]]);
    }
    assert.ok(workerRequests().length >= 1);
  });

  test("request headers reach the server from the worker, and tabs with other headers get a connection of their own", async () => {
    const alice = `{ worker: "/shared-worker.js" }, headers: { Authorization: "Bearer alice" }`;
    const bob = `{ worker: "/shared-worker.js" }, headers: { Authorization: "Bearer bob" }`;
    const tabs = [await openTab(alice), await openTab(alice), await openTab(bob)];
    assert.equal(server.openStreams(), 2, "one connection per set of headers");
    assert.ok(workerRequests().length >= 1, "held by the worker");
    assert.deepEqual(
      streamRequests()
        .map((r) => r.authorization)
        .sort(),
      ["Bearer alice", "Bearer bob"],
    );
    await publishAndCheck(tabs, [], 2);
  });

  test("a custom fetch cannot reach the worker: the tabs share through the leader", async () => {
    const custom = `{ worker: "/shared-worker.js" }, fetch: (url, init) => fetch(url, init)`;
    const tabs = [await openTab(custom), await openTab(custom)];
    assert.equal(server.openStreams(), 1);
    assert.equal(workerRequests().length, 0, "no worker was started");
    await publishAndCheck(tabs, [], 2);
  });

  test("a tab that vanishes without saying goodbye is detached once its Web Lock is free", async () => {
    // A port that attaches the way the client does, then never detaches and never closes: only
    // the freed lock (what the browser does when a tab crashes or is killed) tells the worker.
    const lock = "ssekit-tab:vanishing";
    const attach: TabMessage = {
      k: "attach",
      lock,
      options: {
        url: `${server.origin}/live`,
        method: "GET",
        headers: [],
        body: null,
        withCredentials: false,
        lastEventId: "",
        retry: 3000,
        maxRetryDelay: 30000,
        maxRetries: 1000,
        fallback: "none",
        stallTimeout: 30000,
        pollTimeout: 25000,
      },
    };
    const page = await context.newPage();
    await page.goto(`${server.origin}/page`);
    await page.evaluate(`{
      globalThis.replies = [];
      void navigator.locks.request(${JSON.stringify(lock)}, () => new Promise((resolve) => {
        globalThis.worker = new SharedWorker("/shared-worker.js", { type: "module", name: "ssekit" });
        globalThis.worker.port.onmessage = (m) => globalThis.replies.push(m.data);
        globalThis.worker.port.postMessage(${JSON.stringify(attach)});
        globalThis.release = resolve;
      }));
    }`);
    await page.waitForFunction("globalThis.replies.some((r) => r.k === 'open')");
    assert.equal(server.openStreams(), 1);
    const event = server.publish("to the vanishing port");
    await page.waitForFunction("globalThis.replies.some((r) => r.k === 'event')");
    assert.ok(
      ((await page.evaluate("globalThis.replies")) as { k: string; data?: string }[]).some(
        (r) => r.k === "event" && `1:${r.data}` === event,
      ),
    );
    await page.evaluate("globalThis.release()");
    await server.waitForStreams((open) => open === 0);
  });

  test("without SharedWorker the tabs fall back to the Web Locks leader and still share one connection", async () => {
    const tabs: Page[] = [];
    for (let i = 0; i < 3; i++) tabs.push(await openTab(WORKER, "delete globalThis.SharedWorker"));
    assert.equal(server.openStreams(), 1, "one SSE connection for three tabs");
    assert.equal(workerRequests().length, 0, "no worker was started");
    const expected: string[] = [];
    await publishAndCheck(tabs, expected, 3);

    // The leader's takeover shows it is the leader path: closing the leader makes another tab reconnect.
    const [leader, ...rest] = tabs;
    assert.ok(leader);
    await leader.close();
    await server.waitForStreams((open) => open === 1 && streamRequests().length === 2);
    await publishAndCheck(rest, expected, 2);
    assert.equal(streamRequests().at(-1)?.lastEventId, expected[2]?.split(":")[0]);
  });

  test("when the worker script does not load, the tabs fall back to the leader and still share one connection", async () => {
    const missing = `{ worker: "/no-such-worker.js" }`;
    const tabs: Page[] = [];
    for (let i = 0; i < 3; i++) tabs.push(await openTab(missing));
    assert.equal(server.openStreams(), 1, "one SSE connection for three tabs");
    assert.ok(
      server.log.some((r) => r.path === "/no-such-worker.js"),
      "the worker was tried",
    );
    await publishAndCheck(tabs, [], 3);
  });
});

describe("shared: { worker } in Chromium with its back/forward cache on", { timeout: 90000 }, () => {
  // Playwright turns the cache off by default; real navigations here put the page in it.
  let cachingBrowser: Browser;
  before(async () => {
    cachingBrowser = await launchChromium([], { ignoreDefaultArgs: ["--disable-back-forward-cache"] });
  });
  after(async () => {
    await cachingBrowser?.close();
  });

  test("a tab that navigates away and back is restored from the cache and gets the events sent meanwhile, on the same connection", async () => {
    const caching = await cachingBrowser.newContext();
    try {
      const tabs: Page[] = [];
      for (let i = 0; i < 2; i++) {
        const page = await caching.newPage();
        await page.goto(`${server.origin}/page`);
        await injectClient(page, client);
        await page.evaluate(subscribe(WORKER));
        await page.waitForFunction("globalThis.source.readyState === 1");
        tabs.push(page);
      }
      const [one, two] = tabs;
      assert.ok(one && two);
      const expected: string[] = [];
      await publishAndCheck([one, two], expected, 3);

      await two.goto(`${server.origin}/page?elsewhere`);
      for (let i = 0; i < 5; i++) expected.push(server.publish(`while away ${i + 1}`));
      await one.waitForFunction(`globalThis.seen.length >= ${expected.length}`);
      await two.goBack({ waitUntil: "commit" });
      // Only a page restored from the cache still has the client and what it recorded.
      await two.waitForFunction(
        `globalThis.seen !== undefined && globalThis.seen.length >= ${expected.length}`,
      );
      assert.deepEqual(await seen(two), expected);
      await publishAndCheck([one, two], expected, 2);
      assert.equal(streamRequests().length, 1, "still the one connection");
      assert.equal(server.openStreams(), 1);
    } finally {
      await caching.close();
    }
  });
});

describe("shared: { worker } outside browsers", () => {
  test("in Node (no SharedWorker, no Web Locks) it connects directly, with a relative worker URL and no document", async () => {
    const source = new EventSource(`${server.origin}/live`, {
      shared: { worker: "/shared-worker.js" },
    });
    try {
      await new Promise<void>((resolve) => source.addEventListener("open", () => resolve()));
      const received = new Promise<string>((resolve) =>
        source.addEventListener("message", (m) => {
          const message = m as MessageEvent<string>;
          resolve(`${message.lastEventId}:${message.data}`);
        }),
      );
      const event = server.publish("to node");
      assert.equal(await received, event);
      assert.equal(server.openStreams(), 1);
    } finally {
      source.close();
    }
    await server.waitForStreams((open) => open === 0);
  });
});
