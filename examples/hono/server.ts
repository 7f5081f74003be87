// Server-sent events in Hono on @hono/node-server: createWebSession returns the Response to hand back.
// Run: node --conditions=ssekit-source --import tsx examples/hono/server.ts
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { createChannel, createWebSession } from "ssekit/server";

export const channel = createChannel({ history: 100 });
export const app = new Hono();
app.get("/events", (c) => {
  const { session, response } = createWebSession(c.req.raw);
  channel.add(session);
  return response;
});

if (process.argv[1] === new URL(import.meta.url).pathname) {
  serve({ fetch: app.fetch, port: 3000 });
  setInterval(() => channel.broadcast({ data: new Date().toISOString() }), 1000);
}
