// Server-sent events on plain node:http: every client joins one channel; a timer broadcasts.
// Run: node --conditions=ssekit-source --import tsx examples/node-http/server.ts
import { createServer } from "node:http";
import { createChannel, createSession } from "ssekit/server";

export const channel = createChannel({ history: 100 });
export const server = createServer((req, res) => channel.add(createSession(req, res)));
setInterval(() => channel.broadcast({ event: "time", data: new Date().toISOString() }), 1000).unref();

if (process.argv[1] === new URL(import.meta.url).pathname) server.listen(3000);
