// The differential test: one scenario script, three EventSources — Chromium's native one and ours
// (the esbuild bundle injected into the page), both in headless Chromium on a page of the fixture
// server's origin, and ours in Node. For every adversarial fixture case the three logs (events,
// types, data, lastEventId, readyState transitions, open and error counts) must be identical.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { EventSource } from "../../src/client/index.js";
import { bundleClientGlobal, injectClient, launchChromium } from "../support/browser.js";
import { FIXTURE_CASES } from "../support/fixture-cases.js";
import { type FixtureServer, type RecordedRequest, startFixtureServer } from "../support/fixture-server.js";
import { runScenario, SCENARIO, type ScenarioLog } from "../support/scenario.js";

let server: FixtureServer;
let browser: Browser;
let page: Page;

before(async () => {
  server = await startFixtureServer();
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${server.origin}/page`);
  await injectClient(page, await bundleClientGlobal());
});
after(async () => {
  await browser?.close();
  await server?.close();
});

function inPage(which: "native" | "ssekit", url: string): Promise<ScenarioLog> {
  return page.evaluate(
    `(${SCENARIO})(${which === "native" ? "globalThis.EventSource" : "globalThis.ssekit.EventSource"}, ${JSON.stringify(url)}, location.origin, 10000)`,
  ) as Promise<ScenarioLog>;
}

/** What an EventSource request says about itself: the headers a browser's EventSource sets. */
function sent(request: RecordedRequest): string {
  const lastEventId =
    request.lastEventId === null ? "none" : Buffer.from(request.lastEventId, "latin1").toString("hex");
  return `last-event-id=${lastEventId} accept=${request.accept} cache-control=${request.cacheControl} pragma=${request.pragma}`;
}

function defineAll(): void {
  for (const fixture of FIXTURE_CASES) server.define(fixture.name, fixture.scripts);
}

describe(
  "Chromium's EventSource, ours in Chromium and ours in Node log the same",
  { timeout: 120000 },
  () => {
    for (const fixture of FIXTURE_CASES) {
      if (fixture.name === "basic-target") continue;
      test(fixture.name, async () => {
        const url = `${server.origin}/case/${fixture.name}`;
        defineAll();
        const native = await inPage("native", url);
        const nativeRequests = server.requests(fixture.name).map(sent);
        defineAll();
        const oursInBrowser = await inPage("ssekit", url);
        const browserRequests = server.requests(fixture.name).slice(nativeRequests.length).map(sent);
        defineAll();
        const oursInNode = await runScenario(EventSource, url, server.origin);
        const nodeRequests = server
          .requests(fixture.name)
          .slice(nativeRequests.length * 2)
          .map(sent);
        assert.equal(native.why, "closed", "the native run reached CLOSED");
        assert.deepEqual(oursInBrowser, native);
        assert.deepEqual(oursInNode, native);
        assert.deepEqual(
          browserRequests,
          nativeRequests,
          "the same Last-Event-ID bytes, Accept, Cache-Control and Pragma, request by request",
        );
        assert.deepEqual(nodeRequests, nativeRequests);
      });
    }
  },
);
