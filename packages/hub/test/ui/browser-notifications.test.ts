// The notifications demo in Chromium against a real `ssekit hub --dev`: a toast for an update the
// real `ssekit pub` CLI published, one for the page's own button, and a hub killed and restarted
// (same SQLite file, same port) while the page is open without losing a notification.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { DEV_KEY, devHubArgs, launchBrowser, publishTo, screenshot } from "../support/browser-support.js";
import { type HubProcess, runCli, startHub } from "../support/cli-process.js";

function inboxTitles(page: Page): Promise<string[]> {
  return page.$$eval("#inbox li strong", (items) => items.map((item) => item.textContent ?? ""));
}

describe("notifications demo", { timeout: 90_000 }, () => {
  let dir = "";
  const hubs: HubProcess[] = [];
  let browser: Browser | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "ssekit-ui-notifications-"));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    for (const hub of hubs) await hub.kill();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  async function hubOn(db: string, port = 0): Promise<HubProcess> {
    const hub = await startHub(devHubArgs(join(dir, db), port), { cwd: dir });
    hubs.push(hub);
    return hub;
  }

  test("shows a toast and counts it unread when `ssekit pub` publishes a notification", async () => {
    assert.ok(browser);
    const hub = await hubOn("toast.db");
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      await page.goto(`${hub.url}/demo/notifications`);
      await page.waitForFunction(() => document.body.dataset.stream === "open");

      const published = await runCli(
        ["pub", "notifications", JSON.stringify({ title: "Deploy finished", body: "v1.4.2 is live" })],
        { env: { SSEKIT_HUB_URL: hub.mercure, MERCURE_PUBLISHER_JWT_KEY: DEV_KEY } },
      );
      assert.equal(published.code, 0, published.stderr);
      const id = published.stdout.trim();

      const toast = page.locator(".toast", { hasText: "Deploy finished" });
      await toast.waitFor();
      assert.equal(await toast.getAttribute("data-id"), id);
      assert.match((await toast.textContent()) ?? "", /v1\.4\.2 is live/);
      assert.equal(await page.locator("#unread").getAttribute("data-count"), "1");

      // The page's own button publishes through the hub with the development token.
      await page.fill("#send-title", "Alice commented on your pull request");
      await page.fill("#send-body", "Looks good, one nit on line 42");
      await page.click("#send-form button[type=submit]");
      await page.locator(".toast", { hasText: "Alice commented" }).waitFor();
      assert.equal(await page.locator("#unread").getAttribute("data-count"), "2");
      await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
      await screenshot(page, "notifications");

      await page.click("#mark-read");
      assert.equal(await page.locator("#unread").getAttribute("data-count"), "0");
    } finally {
      await context.close();
      await hubs.at(-1)?.kill("SIGTERM");
    }
  });

  test("resumes after the hub is killed and restarted on the same file and port, losing no notification", async () => {
    assert.ok(browser);
    const db = "restart.db";
    const first = await hubOn(db);
    const port = new URL(first.url).port;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${first.url}/demo/notifications`);
      await page.waitForFunction(() => document.body.dataset.stream === "open");
      const before = ["before 1", "before 2", "before 3"];
      for (const title of before) await publishTo(first.mercure, "notifications", JSON.stringify({ title }));
      await page.waitForFunction(() => document.querySelectorAll("#inbox li").length === 3);

      await first.kill("SIGKILL");
      await page.waitForFunction(() => document.body.dataset.stream !== "open");

      // While the page's hub is down, another hub on the same SQLite file (another port) takes
      // three updates: the page can only get them by resuming from its Last-Event-ID.
      const helper = await hubOn(db);
      const during = ["during 1", "during 2", "during 3"];
      for (const title of during) await publishTo(helper.mercure, "notifications", JSON.stringify({ title }));
      await helper.kill("SIGTERM");

      const second = await hubOn(db, Number(port));
      assert.equal(second.url, first.url);
      await page.waitForFunction(() => document.querySelectorAll("#inbox li").length >= 6);
      const after = ["after 1"];
      for (const title of after) await publishTo(second.mercure, "notifications", JSON.stringify({ title }));
      await page.waitForFunction(() => document.querySelectorAll("#inbox li").length >= 7);

      const titles = (await inboxTitles(page)).reverse();
      assert.deepEqual(titles, [...before, ...during, ...after]);
      const ids = await page.$$eval("#inbox li", (items) =>
        items.map((item) => item.getAttribute("data-id")),
      );
      assert.equal(new Set(ids).size, 7, "every notification once");
      assert.equal(await page.locator("#unread").getAttribute("data-count"), "7");
      assert.ok(Number(await page.locator("#reconnects").textContent()) >= 1);
    } finally {
      await context.close();
    }
  });
});
