import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { test } from "node:test";
import { redisChannelBus } from "@ssekit/redis";
import { EventSource } from "eventsource";
import { createChannel } from "ssekit/server";
import { RedisServer } from "../../packages/redis/test/support/redis-server.js";

test(
  "Next.js-style route handler through Redis: streams, resume and polling see broadcasts made by another instance",
  { timeout: 60_000 },
  async () => {
    const redis = await RedisServer.start();
    try {
      process.env.REDIS_URL = redis.url;
      const route = await import("./route.js");
      // Another instance of the same app: its own bus (connections) on the same key.
      const otherBus = redisChannelBus({ redis: redis.url, key: "example:events" });
      const other = createChannel({ bus: otherBus });
      let server: Server | undefined;
      const sources: EventSource[] = [];
      try {
        await Promise.all([route.channel.ready(), other.ready()]);
        // The adapter: node request -> Web Request -> handler -> Web Response -> node response.
        server = createServer(async (req, res) => {
          const abort = new AbortController();
          res.on("close", () => abort.abort());
          const body = req.method === "POST" ? Buffer.concat(await req.toArray()) : undefined;
          const request = new Request(`http://127.0.0.1${req.url}`, {
            method: req.method,
            headers: req.headers as HeadersInit,
            body,
            signal: abort.signal,
          });
          const response = await (req.method === "POST" ? route.POST(request) : route.GET(request));
          res.writeHead(response.status, Object.fromEntries(response.headers));
          if (response.body)
            Readable.fromWeb(response.body as import("node:stream/web").ReadableStream).pipe(res);
          else res.end();
        });
        server.listen(0, "127.0.0.1");
        await once(server, "listening");
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
        const es = new EventSource(base);
        sources.push(es);
        const got: MessageEvent[] = [];
        let wake = () => {};
        es.onmessage = (event) => {
          got.push(event);
          wake();
        };
        const until = (n: number) =>
          new Promise<void>((resolve) => {
            wake = () => got.length >= n && resolve();
            wake();
          });
        await new Promise((resolve) => es.addEventListener("open", resolve));
        const posted = await fetch(base, { method: "POST", body: "from this instance" });
        assert.equal(posted.status, 200);
        const firstId = await posted.text();
        await other.broadcast({ data: "from another instance" });
        await until(2);
        assert.deepEqual(
          got.map((e) => [e.data, e.lastEventId]),
          [
            ["from this instance", firstId],
            ["from another instance", got[1]?.lastEventId],
          ],
        );
        // A client that saw only the first event resumes here, and a polling one reads the same.
        const resumed = new EventSource(`${base}?lastEventId=${encodeURIComponent(firstId)}`);
        sources.push(resumed);
        const replayed = await new Promise<MessageEvent>((resolve) => {
          resumed.onmessage = resolve;
        });
        assert.equal(replayed.data, "from another instance");
        const poll = await fetch(`${base}?poll=1&lastEventID=${encodeURIComponent(firstId)}&timeout=0`);
        const batch = (await poll.json()) as { events: { data: string }[] };
        assert.deepEqual(
          batch.events.map((e) => e.data),
          ["from another instance"],
        );
      } finally {
        for (const source of sources) source.close();
        server?.closeAllConnections();
        server?.close();
        await Promise.all([route.channel.close(), other.close()]);
        await Promise.all([route.bus.close(), otherBus.close()]);
      }
    } finally {
      await redis.stop();
    }
  },
);
