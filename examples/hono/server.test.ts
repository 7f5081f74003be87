import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { serve } from "@hono/node-server";
import { EventSource } from "eventsource";
import { app, channel } from "./server.js";

test(
  "Hono example: the eventsource client receives broadcasts; closing it empties the channel",
  { timeout: 15_000 },
  async () => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const es = new EventSource(`http://127.0.0.1:${port}/events`);
    try {
      await new Promise((resolve) => es.addEventListener("open", resolve));
      assert.equal(channel.size, 1);
      const got = new Promise<MessageEvent>((resolve) => {
        es.onmessage = resolve;
      });
      channel.broadcast({ data: "from hono" });
      assert.equal((await got).data, "from hono");
    } finally {
      es.close();
      server.close();
    }
  },
);
