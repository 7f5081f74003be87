import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { test } from "node:test";
import { EventSource } from "eventsource";
import { channel, GET } from "./route.js";

test(
  "Next.js-style route handler: served through a tiny node:http adapter, read by eventsource and fetch",
  { timeout: 15_000 },
  async () => {
    // The adapter: node request -> Web Request -> handler -> Web Response -> node response.
    const server = createServer(async (req, res) => {
      const abort = new AbortController();
      res.on("close", () => abort.abort());
      const request = new Request(`http://127.0.0.1${req.url}`, {
        headers: req.headers as HeadersInit,
        signal: abort.signal,
      });
      const response = GET(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      if (response.body)
        Readable.fromWeb(response.body as import("node:stream/web").ReadableStream).pipe(res);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const es = new EventSource(`http://127.0.0.1:${port}/events`);
    try {
      await new Promise((resolve) => es.addEventListener("open", resolve));
      const got = new Promise<MessageEvent>((resolve) => {
        es.onmessage = resolve;
      });
      channel.broadcast({ data: "route says hi" });
      assert.equal((await got).data, "route says hi");
      const response = await fetch(`http://127.0.0.1:${port}/events`);
      assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
      await response.body?.cancel();
    } finally {
      es.close();
      server.closeAllConnections();
      server.close();
    }
  },
);
