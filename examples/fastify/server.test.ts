import assert from "node:assert/strict";
import { test } from "node:test";
import { EventSource } from "eventsource";
import { app, channel } from "./server.js";

test(
  "Fastify example: the eventsource client receives broadcasts and resumes from history",
  { timeout: 15_000 },
  async () => {
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    const first = channel.broadcast({ data: "before" });
    const second = channel.broadcast({ data: "missed" });
    assert.ok(first && second);
    const es = new EventSource(`${url}/events?lastEventId=${first}`);
    try {
      const got: string[] = [];
      const done = new Promise<void>((resolve) => {
        es.onmessage = (e) => {
          got.push(String(e.data));
          if (got.length === 2) resolve();
        };
      });
      await new Promise((resolve) => es.addEventListener("open", resolve));
      channel.broadcast({ data: "live" });
      await done;
      assert.deepEqual(got, ["missed", "live"]);
    } finally {
      es.close();
      await app.close();
    }
  },
);
