import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { EventSource } from "eventsource";
import { channel, server } from "./server.js";

test("node:http example: the eventsource client receives broadcasts", { timeout: 15_000 }, async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const es = new EventSource(`http://127.0.0.1:${port}/`);
  try {
    await new Promise((resolve) => es.addEventListener("open", resolve));
    const got = new Promise<MessageEvent>((resolve) => es.addEventListener("news", resolve));
    channel.broadcast({ event: "news", data: "hello" });
    assert.equal((await got).data, "hello");
  } finally {
    es.close();
    server.closeAllConnections();
    server.close();
  }
});
