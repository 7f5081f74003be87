// The web console in Chromium against a real `ssekit hub --dev`: it subscribes, publishes from
// its form with the development token, shows the event it published, and draws the hub's figures.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { devHubAndBrowser, screenshot } from "../support/browser-support.js";

describe("web console", { timeout: 60_000 }, () => {
  const started = devHubAndBrowser("ssekit-ui-console-");

  test("subscribes to a topic template, publishes from the form and shows the event it published", async () => {
    const { hub, browser } = started;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(`${hub.url}/`);
      await page.fill("#topic-input", "https://example.com/books/{id}");
      await page.click("#subscribe-form button[type=submit]");
      await page.waitForFunction(() => document.body.dataset.stream === "open");

      const marker = `console-${Date.now()}`;
      await page.fill("#publish-topic", "https://example.com/books/7");
      await page.fill("#publish-data", JSON.stringify({ title: "Dune", marker }));
      await page.fill("#publish-type", "book.updated");
      await page.click("#publish-button");

      const item = page.locator("#events li", { hasText: marker });
      await item.waitFor();
      assert.equal(await item.getAttribute("data-type"), "book.updated");
      const publishedId = await page.locator("#publish-status").getAttribute("data-id");
      assert.ok(publishedId, "the form shows the id the hub assigned");
      assert.equal(await item.getAttribute("data-id"), publishedId);
      assert.match((await item.locator("pre").textContent()) ?? "", /"title": "Dune"/);
    } finally {
      await page.close();
    }
  });

  test("shows the hub's live figures from /metrics, its own subscription included", async () => {
    const { hub, browser } = started;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await page.goto(`${hub.url}/`);
      await page.waitForFunction(() => document.body.dataset.stream === "open");
      await page.waitForFunction(() => Number(document.getElementById("fig-connections")?.textContent) >= 1);
      // Rates need two samples of the counters; the ticker keeps publishing, so published/s goes above 0.
      await page.waitForFunction(() => Number(document.getElementById("fig-published")?.textContent) > 0);
      const samples: readonly [string, string, string][] = [
        ["https://example.com/books/1", "book.created", '{"title": "Dune", "author": "Frank Herbert"}'],
        ["https://example.com/books/2", "", '{"title": "Neuromancer", "stock": 3}'],
        [
          "https://example.com/books/1",
          "book.updated",
          '{"title": "Dune", "stock": 12, "price": {"amount": 9.99, "currency": "EUR"}, "tags": ["classic", "sci-fi"]}',
        ],
        ["notifications", "", '{"title": "Build passed", "body": "main · 42 tests"}'],
        ["https://example.com/books/3", "book.deleted", '{"id": 3}'],
      ];
      for (const [topic, type, data] of samples) {
        await page.fill("#publish-topic", topic);
        await page.fill("#publish-type", type);
        await page.fill("#publish-data", data);
        await page.click("#publish-button");
      }
      await page
        .locator("#events li")
        .nth(samples.length - 1)
        .waitFor();
      // A few seconds of figures, so the sparklines have a shape.
      await page.waitForFunction(
        () => Number(document.getElementById("spark-published")?.dataset.points) >= 6,
      );
      await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
      await screenshot(page, "console");
    } finally {
      await page.close();
    }
  });
});
