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
import {
  HANDLE_SCENARIO,
  runScenario,
  SCENARIO,
  type ScenarioLog,
  startHandleScenario,
} from "../support/scenario.js";

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

describe("where ours deliberately differs from Chromium", { timeout: 60000 }, () => {
  test("a charset other than UTF-8: Chromium fails the connection, ours decodes UTF-8 as the spec says", async () => {
    const name = "charset-latin1";
    const scripts = [
      {
        kind: "stream" as const,
        contentType: "text/event-stream; charset=iso-8859-1",
        chunks: ["retry: 10\ndata: caf\u00e9\n\n"],
      },
      { kind: "status" as const, status: 204 },
    ];
    server.define(name, scripts);
    const native = await inPage("native", `${server.origin}/case/${name}`);
    assert.deepEqual(native.log.slice(1), ["error readyState=2", "after close readyState=2"]);
    server.define(name, scripts);
    const oursInBrowser = await inPage("ssekit", `${server.origin}/case/${name}`);
    server.define(name, scripts);
    const oursInNode = await runScenario(EventSource, `${server.origin}/case/${name}`, server.origin);
    for (const ours of [oursInBrowser, oursInNode])
      assert.deepEqual(ours.log.slice(1), [
        "open readyState=1",
        'message "caf\u00e9" "" readyState=1 origin=true url=true',
        "error readyState=0",
        "error readyState=2",
        "after close readyState=2",
      ]);
  });
});

/** One of the three EventSources, driven through `HANDLE_SCENARIO`. */
interface Driven {
  log(): Promise<string[]>;
  close(): Promise<void>;
}

async function drive(
  which: "native" | "ssekit" | "node",
  url: string,
  closeInErrorListener: boolean,
): Promise<Driven> {
  if (which === "node") {
    const handle = startHandleScenario(EventSource, url, closeInErrorListener);
    return { log: async () => [...handle.log], close: async () => handle.close() };
  }
  const klass = which === "native" ? "globalThis.EventSource" : "globalThis.ssekit.EventSource";
  await page.evaluate(
    `globalThis.driven = (${HANDLE_SCENARIO})(${klass}, ${JSON.stringify(url)}, ${closeInErrorListener})`,
  );
  return {
    log: () => page.evaluate("[...globalThis.driven.log]") as Promise<string[]>,
    close: () => page.evaluate("globalThis.driven.close()") as Promise<void>,
  };
}

describe("close() in the middle of the processing model, in all three", { timeout: 60000 }, () => {
  for (const which of ["native", "ssekit", "node"] as const) {
    test(`${which}: close() while connecting aborts the request and fires nothing`, async () => {
      const name = `pending-${which}`;
      server.define(name, [{ kind: "pending" }]);
      await server.waitForStreams((open) => open === 0);
      const driven = await drive(which, `${server.origin}/case/${name}`, false);
      await server.waitForStreams((open) => open === 1); // the request is at the server, unanswered
      await driven.close();
      await server.waitForStreams((open) => open === 0); // the client dropped it
      assert.deepEqual(await driven.log(), ["init readyState=0", "after close readyState=2"]);
      assert.equal(server.requests(name).length, 1);
    });

    test(`${which}: close() in an error listener stops the reconnection`, async () => {
      const name = `close-in-error-${which}`;
      server.define(name, [{ kind: "stream", chunks: ["retry: 0\ndata: a\n\n"] }]);
      const driven = await drive(which, `${server.origin}/case/${name}`, true);
      // A whole scenario with reconnects (retry: 10) runs meanwhile: a reconnect after retry 0 would be in.
      defineAll();
      const other = await runScenario(EventSource, `${server.origin}/case/basic`, server.origin);
      assert.equal(other.why, "closed");
      assert.deepEqual(await driven.log(), [
        "init readyState=0",
        "open readyState=1",
        'message "a" readyState=1',
        "error readyState=0",
        "closed in the error listener readyState=2",
      ]);
      assert.equal(server.requests(name).length, 1, "no reconnect after close()");
    });
  }
});
