import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { EventSource } from "eventsource";
import { app, channel } from "./server.js";

test("Express example: the eventsource client receives typed broadcasts", { timeout: 15_000 }, async () => {
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const es = new EventSource(`http://127.0.0.1:${port}/prices`);
  try {
    await new Promise((resolve) => es.addEventListener("open", resolve));
    const got = new Promise<MessageEvent>((resolve) => es.addEventListener("price", resolve));
    channel.broadcast("price", { symbol: "ACME", p: 1.5 });
    assert.deepEqual(JSON.parse(String((await got).data)), { symbol: "ACME", p: 1.5 });
  } finally {
    es.close();
    server.closeAllConnections();
    server.close();
  }
});
