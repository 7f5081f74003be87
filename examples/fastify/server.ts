// Server-sent events in Fastify 5: hijack the reply, then hand the raw req/res to createSession.
// Run: node --conditions=ssekit-source --import tsx examples/fastify/server.ts
import Fastify from "fastify";
import { createChannel, createSession } from "ssekit/server";

export const channel = createChannel({ history: 100 });
export const app = Fastify();
app.get("/events", (request, reply) => {
  reply.hijack();
  channel.add(createSession(request.raw, reply.raw));
});

if (process.argv[1] === new URL(import.meta.url).pathname) {
  await app.listen({ port: 3000 });
  setInterval(() => channel.broadcast({ data: new Date().toISOString() }), 1000);
}
