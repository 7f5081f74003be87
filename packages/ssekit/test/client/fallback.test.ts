// Polling fallback (docs/polling.md): with `fallback: "poll"` the caller sees the same events when
// the runtime's fetch has no streaming body, and when a proxy buffers the stream (no byte within
// `stallTimeout`), in Node and in Chromium; without it, a body-less fetch fails with NO_BODY.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { EventSource, type SseErrorEvent } from "../../src/client/index.js";
import { createChannel, createSession } from "../../src/server/index.js";
import { bundleClientGlobal, injectClient, launchChromium } from "../support/browser.js";
import { startBufferingProxy } from "../support/buffering-proxy.js";
import { type FixtureServer, startFixtureServer } from "../support/fixture-server.js";

let server: FixtureServer;
let browser: Browser;
before(async () => {
  server = await startFixtureServer();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** A fetch whose event-stream responses have no body stream (as in runtimes that cannot stream). */
const bodylessFetch = async (input: string, init: RequestInit): Promise<Response> => {
  const response = await fetch(input, init);
  if (!new Headers(init.headers).get("accept")?.includes("text/event-stream")) return response;
  await response.body?.cancel();
  return new Response(null, { status: response.status, headers: response.headers });
};

function collect(source: EventSource, count: number): Promise<string[]> {
  const seen: string[] = [];
  return new Promise((resolve) => {
    const on = (event: Event) => {
      const message = event as MessageEvent;
      seen.push(`${message.type}:${message.data}:${message.lastEventId}`);
      if (seen.length === count) resolve(seen);
    };
    source.addEventListener("message", on);
    source.addEventListener("price", on);
  });
}

const opened = (source: EventSource) =>
  new Promise<void>((resolve) => source.addEventListener("open", () => resolve(), { once: true }));

function publishBatch(): string[] {
  return [server.publish("a"), server.publish('{"p":1}', "price"), server.publish("c")].map(
    (e) => `${e.type}:${e.data}:${e.id}`,
  );
}

describe("polling fallback", { timeout: 30000 }, () => {
  test("a fetch without a body stream fails with NO_BODY unless fallback is poll", async () => {
    const source = new EventSource(`${server.origin}/live`, { fetch: bodylessFetch });
    const error = await new Promise<SseErrorEvent>((resolve) => {
      source.onerror = resolve;
    });
    assert.equal(error.error?.code, "NO_BODY");
    assert.equal(source.readyState, EventSource.CLOSED);
  });

  test("with fallback poll, a body-less fetch gets the same events as a streaming one", async () => {
    server.setLiveMode("stream");
    const streaming = new EventSource(`${server.origin}/live`);
    const polling = new EventSource(`${server.origin}/live`, { fetch: bodylessFetch, fallback: "poll" });
    try {
      await Promise.all([opened(streaming), opened(polling)]);
      const streamed = collect(streaming, 3);
      const polled = collect(polling, 3);
      const published = publishBatch();
      assert.deepEqual(await streamed, published);
      assert.deepEqual(await polled, published);
      assert.ok(
        server.log.some((r) => r.path === "/live" && r.lastEventId !== null),
        "polls carry Last-Event-ID",
      );
    } finally {
      streaming.close();
      polling.close();
    }
  });

  test("when a proxy buffers the stream, it switches to polling after stallTimeout", async () => {
    server.setLiveMode("buffer");
    const source = new EventSource(`${server.origin}/live`, { fallback: "poll", stallTimeout: 200 });
    try {
      await opened(source);
      const received = collect(source, 3);
      const published = publishBatch();
      assert.deepEqual(await received, published);
    } finally {
      source.close();
      server.setLiveMode("stream");
    }
  });

  test("in Chromium, a buffered stream falls back to polling and delivers the same sequence", async () => {
    server.setLiveMode("buffer");
    const page = await browser.newPage();
    try {
      await page.goto(`${server.origin}/page`);
      await injectClient(page, await bundleClientGlobal());
      // A string, not a function: tsx's keepNames helpers do not exist in the page.
      await page.evaluate(`{
        globalThis.seen = [];
        const source = new ssekit.EventSource("/live", { fallback: "poll", stallTimeout: 200 });
        const on = (m) => globalThis.seen.push(m.type + ":" + m.data + ":" + m.lastEventId);
        source.addEventListener("message", on);
        source.addEventListener("price", on);
        source.addEventListener("open", () => { globalThis.opened = true; });
      }`);
      await page.waitForFunction("globalThis.opened === true");
      const published = publishBatch();
      await page.waitForFunction(() => (globalThis as unknown as { seen: string[] }).seen.length >= 3);
      assert.deepEqual(
        await page.evaluate(() => (globalThis as unknown as { seen: string[] }).seen),
        published,
      );
    } finally {
      await page.close();
      server.setLiveMode("stream");
    }
  });
});

/** Every message until the one whose data is `last`: a lost event shows as a difference, not a hang. */
function collectUntil(source: EventSource, last: string): Promise<string[]> {
  const seen: string[] = [];
  return new Promise((resolve) => {
    source.addEventListener("message", (event) => {
      const message = event as MessageEvent;
      seen.push(`${message.type}:${message.data}:${message.lastEventId}`);
      if (message.data === last) resolve(seen);
    });
  });
}

/** The request's headers as a Web `Headers` (Node's repeated headers joined as fetch does). */
function webHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  return headers;
}

/**
 * A node:http app with a channel (history on): its stream through `createSession` with
 * `startsAfter`, its polls through `channel.poll`, and `/page` for browser tests.
 */
async function channelApp(channel: ReturnType<typeof createChannel>) {
  const upstream = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://upstream");
    if (url.pathname === "/page") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end("<!doctype html><title>channel</title>");
      return;
    }
    if (url.searchParams.get("poll") === "1") {
      const abort = new AbortController();
      res.on("close", () => abort.abort());
      const request = new Request(url, { headers: webHeaders(req), signal: abort.signal });
      void channel.poll(request, { retry: 20 }).then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(await response.text());
      });
      return;
    }
    channel.add(createSession(req, res, { heartbeat: 0, startsAfter: channel.startsAfter }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    close() {
      upstream.closeAllConnections();
      return new Promise<void>((resolve) => upstream.close(() => resolve()));
    },
  };
}

const expected = Array.from({ length: 10 }, (_, i) => `message:e${i}:${i + 2}`);

describe("polling fallback through a proxy that holds 32 KiB", { timeout: 30000 }, () => {
  test("ssekit/server channel: events sent before the switch to polling are delivered, none from before the stream", async () => {
    const channel = createChannel({ history: 100 });
    channel.broadcast({ data: "before the stream" });
    const app = await channelApp(channel);
    const proxy = await startBufferingProxy(app.origin);
    const source = new EventSource(`${proxy.origin}/prices`, { fallback: "poll", stallTimeout: 300 });
    try {
      const received = collectUntil(source, "e9");
      await opened(source); // the headers passed the proxy; the stream's bytes do not
      for (let i = 0; i < 4; i++) channel.broadcast({ data: `e${i}` });
      // Polling for a while (a second poll is out): then the rest, one poll answer or more.
      await proxy.waitForRequests((url) => url.includes("poll=1"), 2);
      for (let i = 4; i < 10; i++) channel.broadcast({ data: `e${i}` });
      assert.deepEqual(await received, expected);
    } finally {
      source.close();
      channel.close();
      await proxy.close();
      await app.close();
    }
  });

  test("the same in Chromium", async () => {
    const channel = createChannel({ history: 100 });
    channel.broadcast({ data: "before the stream" });
    const app = await channelApp(channel);
    const proxy = await startBufferingProxy(app.origin);
    const page = await browser.newPage();
    try {
      await page.goto(`${proxy.origin}/page`);
      await injectClient(page, await bundleClientGlobal());
      await page.evaluate(`{
        globalThis.seen = [];
        const source = new ssekit.EventSource("/prices", { fallback: "poll", stallTimeout: 300 });
        source.addEventListener("message", (m) => globalThis.seen.push(m.type + ":" + m.data + ":" + m.lastEventId));
        source.addEventListener("open", () => { globalThis.opened = true; });
      }`);
      await page.waitForFunction("globalThis.opened === true");
      for (let i = 0; i < 4; i++) channel.broadcast({ data: `e${i}` });
      await proxy.waitForRequests((url) => url.includes("poll=1"), 2);
      for (let i = 4; i < 10; i++) channel.broadcast({ data: `e${i}` });
      await page.waitForFunction(`globalThis.seen.some((line) => line.startsWith("message:e9:"))`);
      assert.deepEqual(await page.evaluate("globalThis.seen"), expected);
    } finally {
      await page.close();
      channel.close();
      await proxy.close();
      await app.close();
    }
  });
});
