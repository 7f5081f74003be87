// The live chart demo in Chromium against a real `ssekit hub --dev`: the simulated ticker's points
// are drawn, and after a network drop (a proxy that cuts every connection and refuses new ones)
// the page reconnects and catches up on the ticks it missed, with no gap.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createParser } from "eventsource-parser";
import { devHubAndBrowser, droppingProxy, screenshot } from "../support/browser-support.js";

/** Counts ticks straight from the hub (not through the proxy), to know when some were missed. */
function countTicks(mercure: string, signal: AbortSignal) {
  let count = 0;
  const waiters: { target: number; resolve: () => void }[] = [];
  const parser = createParser({
    onEvent() {
      count++;
      for (const waiter of waiters.filter((w) => count >= w.target)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    },
  });
  void (async () => {
    const url = `${mercure}?topic=${encodeURIComponent("demo/prices/{symbol}")}`;
    const response = await fetch(url, { signal });
    const reader = response.body?.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      parser.feed(decoder.decode(chunk.value, { stream: true }));
    }
  })().catch(() => undefined);
  return {
    /** Resolves once `more` further ticks arrived. */
    more(more: number): Promise<void> {
      return new Promise((resolve) => waiters.push({ target: count + more, resolve }));
    },
  };
}

describe("live chart demo", { timeout: 60_000 }, () => {
  const started = devHubAndBrowser("ssekit-ui-live-");

  test("draws the ticker's points for every symbol", async () => {
    const { hub, browser } = started;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(`${hub.url}/demo/live`);
      await page.waitForFunction(() => Number(document.getElementById("chart")?.dataset.points) >= 60);
      const symbols = await page.$$eval(".quote", (cards) =>
        cards.map((card) => card.getAttribute("data-symbol")),
      );
      assert.deepEqual(symbols.sort(), ["ACME", "GLOBEX", "INITECH", "UMBRA"]);
      assert.equal(await page.evaluate(() => document.body.dataset.gaps), "0");
      await screenshot(page, "live");
    } finally {
      await page.close();
    }
  });

  test("reconnects after a network drop and catches up on the missed ticks without a gap", async () => {
    const { hub, browser } = started;
    const proxy = await droppingProxy(Number(new URL(hub.url).port));
    const stop = new AbortController();
    const page = await browser.newPage();
    try {
      const ticks = countTicks(hub.mercure, stop.signal);
      await page.goto(`${proxy.url}/demo/live`);
      await page.waitForFunction(() => Number(document.body.dataset.ticks) >= 8);

      proxy.drop();
      await page.waitForFunction(() => document.body.dataset.stream !== "open");
      const seenAtDrop = Number(await page.evaluate(() => document.body.dataset.ticks));
      await ticks.more(12); // the hub publishes while the page is cut off
      proxy.restore();

      await page.waitForFunction(() => Number(document.getElementById("caught-up")?.textContent) >= 8);
      await page.waitForFunction(() => document.body.dataset.stream === "open");
      assert.ok(Number(await page.evaluate(() => document.body.dataset.ticks)) >= seenAtDrop + 12);
      assert.equal(await page.evaluate(() => document.body.dataset.gaps), "0", "no tick missing");
      assert.ok(Number(await page.locator("#reconnects").textContent()) >= 1);
    } finally {
      stop.abort();
      await page.close();
      await proxy.close();
    }
  });
});
