// Requests from a browser worker (where the tab-sharing connection lives) are those of a page: the
// cache mode, not Cache-Control or Pragma request headers, which would make every cross-origin
// EventSource request need a CORS preflight that servers, Chromium's own EventSource and the hub's
// CORS settings do not expect. A cross-origin server that refuses preflights shows the difference.
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import { bundleClientGlobal, launchChromium } from "../support/browser.js";

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser?.close());

test(
  "in a dedicated worker, a cross-origin EventSource needs no preflight and sends what Chromium's does",
  { timeout: 30000 },
  async () => {
    const seen: { method: string; headers: IncomingHttpHeaders }[] = [];
    const server = createServer((req, res) => {
      seen.push({ method: req.method ?? "", headers: req.headers });
      if (req.url === "/page") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<!doctype html><title>worker</title>");
        return;
      }
      if (req.method === "OPTIONS") {
        // A server that allows no request headers: a preflighted request fails.
        res.writeHead(204, { "access-control-allow-origin": "*" });
        res.end();
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "access-control-allow-origin": "*" });
      res.end("data: from the other origin\n\n");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const page = await browser.newPage();
    try {
      // The page is on localhost, the stream on 127.0.0.1: another origin.
      await page.goto(`http://localhost:${port}/page`);
      const workerScript = `${await bundleClientGlobal()}
      const source = new ssekit.EventSource(${JSON.stringify(`http://127.0.0.1:${port}/stream`)});
      source.onmessage = (event) => { postMessage("message:" + event.data); source.close(); };
      source.onerror = () => { postMessage("error:" + source.readyState); source.close(); };`;
      const outcome = await page.evaluate(
        (script) =>
          new Promise<string>((resolve) => {
            const worker = new Worker(URL.createObjectURL(new Blob([script], { type: "text/javascript" })));
            worker.onmessage = (event) => resolve(String(event.data));
          }),
        workerScript,
      );
      assert.equal(outcome, "message:from the other origin");
      const streams = seen.filter((r) => r.method !== "GET" || r.headers.accept === "text/event-stream");
      assert.deepEqual(
        streams.map((r) => [r.method, r.headers["cache-control"], r.headers.pragma]),
        [["GET", "no-cache", "no-cache"]],
        "one GET, no OPTIONS; the browser added the cache headers itself",
      );
    } finally {
      await page.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  },
);
