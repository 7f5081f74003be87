// The client's polling fallback against the hub through a proxy that buffers response bodies (as
// nginx does with proxy_buffering on): the stream looks open but silent, the client switches to
// polling, and it must resume from where its stream began (the hub's Last-Event-ID response
// header), so the updates the proxy held back are delivered, in order, and nothing older.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { EventSource } from "ssekit/client";
import { startBufferingProxy } from "../../../ssekit/test/support/buffering-proxy.js";
import { publishOk, type Started, startHub } from "../support/hub-support.js";

let started: Started;
before(async () => {
  started = await startHub({ anonymous: true });
});
after(() => started.hub.close());

test(
  "behind a buffering proxy, fallback poll gets the updates published before it switched",
  { timeout: 30000 },
  async () => {
    const topic = "https://example.com/buffered";
    await publishOk(started.endpoint, { topic, data: "before the stream" });
    const proxy = await startBufferingProxy(started.url);
    const source = new EventSource(`${proxy.origin}/.well-known/mercure?topic=${encodeURIComponent(topic)}`, {
      fallback: "poll",
      stallTimeout: 300,
    });
    try {
      const seen: string[] = [];
      const received = new Promise<void>((resolve) => {
        source.onmessage = (event) => {
          seen.push(`${event.data}@${event.lastEventId}`);
          if (event.data === "e9") resolve();
        };
      });
      await new Promise((resolve) => source.addEventListener("open", resolve, { once: true }));
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push(await publishOk(started.endpoint, { topic, data: `e${i}` }));
      // The client is polling (a second poll is out) before the rest is published.
      await proxy.waitForRequests((url) => url.includes("poll=1"), 2);
      for (let i = 4; i < 10; i++) ids.push(await publishOk(started.endpoint, { topic, data: `e${i}` }));
      await received;
      assert.deepEqual(
        seen,
        ids.map((id, i) => `e${i}@${id}`),
      );
    } finally {
      source.close();
      await proxy.close();
    }
  },
);
