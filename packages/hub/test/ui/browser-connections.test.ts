// The browser's six-connections-per-origin limit, shown and beaten, counted at the hub:
// 10 native EventSources in one page over HTTP/1.1 get only 6 connections; over HTTP/2 (TLS, ALPN)
// all 10 open on one connection; and 10 tabs of a page using ssekit/client with `shared: true`
// over HTTP/1.1 all receive events over a single connection.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  type Certificate,
  connectionsAt,
  devHubArgs,
  launchBrowser,
  publishTo,
  selfSignedCertificate,
} from "../support/browser-support.js";
import { type HubProcess, startHub } from "../support/cli-process.js";

const TOPIC = "https://example.com/limit";

declare global {
  interface Window {
    opened: number;
    received: number;
    sources: EventSource[];
  }
}

/** Opens `count` native EventSources on the page's own origin. */
async function openNative(page: Page, count: number): Promise<void> {
  await page.evaluate(
    ({ count, topic }) => {
      window.opened = 0;
      window.received = 0;
      window.sources = [];
      for (let i = 0; i < count; i++) {
        const source = new EventSource(`/.well-known/mercure?topic=${encodeURIComponent(topic)}`);
        source.onopen = () => window.opened++;
        source.onmessage = () => window.received++;
        window.sources.push(source);
      }
    },
    { count, topic: TOPIC },
  );
}

function readyStates(page: Page): Promise<number[]> {
  return page.evaluate(() => window.sources.map((s) => s.readyState));
}

describe("six connections per origin", { timeout: 90_000 }, () => {
  let dir = "";
  let http1: HubProcess | undefined;
  let http2: HubProcess | undefined;
  /** A hub of its own for the shared test, so no connection of another test is still being closed. */
  let shared: HubProcess | undefined;
  let certificate: Certificate | undefined;
  let browser: Browser | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "ssekit-ui-limit-"));
    certificate = selfSignedCertificate();
    writeFileSync(join(dir, "cert.pem"), certificate.cert);
    writeFileSync(join(dir, "key.pem"), certificate.key);
    [http1, shared, http2] = await Promise.all([
      startHub(devHubArgs(join(dir, "h1.db")), { cwd: dir }),
      startHub(devHubArgs(join(dir, "shared.db")), { cwd: dir }),
      startHub([...devHubArgs(join(dir, "h2.db")), "--tls-cert", "cert.pem", "--tls-key", "key.pem"], {
        cwd: dir,
      }),
    ]);
    browser = await launchBrowser(["--ignore-certificate-errors"]);
  });
  after(async () => {
    await browser?.close();
    await http1?.kill();
    await http2?.kill();
    await shared?.kill();
    certificate?.dispose();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("over HTTP/1.1, only 6 of 10 native EventSources in one page get a connection", async () => {
    assert.ok(http1 && browser);
    const page = await browser.newPage();
    try {
      await page.goto(`${http1.url}/healthz`);
      await openNative(page, 10);
      await page.waitForFunction(() => window.opened >= 6);
      await publishTo(http1.mercure, TOPIC, "hello");
      // The event reached every open source; the other four are still queued by the browser.
      await page.waitForFunction(() => window.received >= 6);
      const states = await readyStates(page);
      assert.equal(states.filter((s) => s === 1).length, 6);
      assert.equal(states.filter((s) => s === 0).length, 4);
      assert.equal(await page.evaluate(() => window.received), 6);
      assert.equal(await connectionsAt(http1.url), 6);
    } finally {
      await page.close();
    }
  });

  test("over HTTP/2, all 10 native EventSources in one page open", async () => {
    assert.ok(http2 && browser && certificate);
    const page = await browser.newPage();
    try {
      await page.goto(`${http2.url}/healthz`);
      const protocol = await page.evaluate(
        () => (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).nextHopProtocol,
      );
      assert.equal(protocol, "h2");
      await openNative(page, 10);
      await page.waitForFunction(() => window.opened === 10);
      await publishTo(http2.mercure, TOPIC, "hello", certificate.cert);
      await page.waitForFunction(() => window.received === 10);
      assert.deepEqual(await readyStates(page), new Array(10).fill(1));
      assert.equal(await connectionsAt(http2.url, certificate.cert), 10);
    } finally {
      await page.close();
    }
  });

  test("over HTTP/1.1, 10 tabs using ssekit/client with shared: true all receive events over one connection", async () => {
    assert.ok(shared && browser);
    const context = await browser.newContext();
    try {
      const pages: Page[] = [];
      for (let i = 0; i < 10; i++) {
        const page = await context.newPage();
        await page.goto(`${shared.url}/demo/notifications`);
        pages.push(page);
      }
      for (const page of pages) await page.waitForFunction(() => document.body.dataset.stream === "open");
      await publishTo(shared.mercure, "notifications", JSON.stringify({ title: "to every tab" }));
      for (const page of pages) await page.locator(".toast", { hasText: "to every tab" }).waitFor();
      assert.equal(await connectionsAt(shared.url), 1);
    } finally {
      await context.close();
    }
  });
});
