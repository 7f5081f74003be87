// Server-sent events in Express 5: the route hands req and res to createSession.
// Run: node --conditions=ssekit-source --import tsx examples/express/server.ts
import express from "express";
import { createChannel, createSession } from "ssekit/server";

type Events = { price: { symbol: string; p: number } };
export const channel = createChannel<Events>({ history: 100 });
export const app = express();
app.get("/prices", (req, res) => {
  channel.add(createSession<Events>(req, res, { retry: 2000 }));
});

if (process.argv[1] === new URL(import.meta.url).pathname) {
  app.listen(3000);
  setInterval(() => channel.broadcast("price", { symbol: "ACME", p: 100 + Math.random() }), 1000);
}
