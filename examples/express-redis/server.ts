// Express 5 on several processes sharing one channel through Redis: a price broadcast on any
// instance reaches the clients of every instance, and a client resumes on any instance.
// Run Redis (redis-server), then one instance per terminal:
//   PORT=3001 node --conditions=ssekit-source --import tsx examples/express-redis/server.ts
//   PORT=3002 node --conditions=ssekit-source --import tsx examples/express-redis/server.ts
//   curl -N http://127.0.0.1:3001/prices            # follow on one instance
//   curl -X POST 'http://127.0.0.1:3002/prices?p=101' # publish on the other
// REDIS_URL (default redis://127.0.0.1:6379) says where Redis is.
import type { AddressInfo } from "node:net";
import { redisChannelBus } from "@ssekit/redis";
import express from "express";
import { createChannel, createSession } from "ssekit/server";

type Events = { price: { symbol: string; p: number } };

// Every instance uses the same key: that is what makes it one channel.
export const bus = redisChannelBus({
  redis: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  key: "example:prices",
  maxLength: 1_000, // events kept for clients that reconnect
  maxAgeMs: 3_600_000, // and for at most an hour
});
export const channel = createChannel<Events>({ bus });

export const app = express();
app.get("/prices", (req, res) => {
  // Replays what the client missed (its Last-Event-ID), on whichever instance it lands.
  void channel.add(createSession<Events>(req, res, { retry: 2000 }));
});
app.post("/prices", async (req, res) => {
  const p = Number(req.query.p);
  if (!Number.isFinite(p)) {
    res.status(400).send(`p must be a number (got ${JSON.stringify(req.query.p ?? null)})`);
    return;
  }
  try {
    // Resolves once Redis has the event; rejects when it was not sent (Redis unreachable).
    res.send(await channel.broadcast("price", { symbol: "ACME", p }));
  } catch (error) {
    res.status(503).send(`not sent: ${error instanceof Error ? error.message : String(error)}`);
  }
});

if (process.argv[1] === new URL(import.meta.url).pathname) {
  // Serve once the channel follows Redis; stop with the reason if Redis cannot be reached.
  await channel.ready().catch((error: unknown) => {
    console.error(
      `cannot reach Redis (REDIS_URL=${process.env.REDIS_URL ?? "redis://127.0.0.1:6379"}): ${error}`,
    );
    process.exit(1);
  });
  const server = app.listen(Number(process.env.PORT ?? 3001), "127.0.0.1", () => {
    console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  process.on("SIGTERM", () => {
    server.closeAllConnections();
    server.close();
    void channel.close().then(() => bus.close());
  });
}
