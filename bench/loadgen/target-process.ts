/**
 * The server-under-test process: `target-process.ts ssekit|better-sse|naive`. Serves GET / as an
 * event stream on 127.0.0.1 (port 0), publishes to every subscriber when told, reports RSS.
 */
import { createServer, type ServerResponse } from "node:http";
import { createChannel as betterChannel, createSession as betterSession } from "better-sse";
import { createChannel, createSession } from "ssekit/server";

const kind = process.argv[2];
let publishOne: (data: string) => void;
let handler: Parameters<typeof createServer>[1];

if (kind === "ssekit") {
  const channel = createChannel();
  handler = (req, res) => {
    channel.add(createSession(req, res));
  };
  publishOne = (data) => channel.broadcast({ data });
} else if (kind === "better-sse") {
  const channel = betterChannel();
  handler = async (req, res) => {
    channel.register(await betterSession(req, res, { serializer: String }));
  };
  publishOne = (data) => channel.broadcast(data);
} else {
  // The naive broadcaster: an array of responses and one res.write per message.
  const clients: ServerResponse[] = [];
  handler = (req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(":\n\n");
    clients.push(res);
    req.on("close", () => clients.splice(clients.indexOf(res), 1));
  };
  publishOne = (data) => {
    const frame = `data: ${data}\n\n`;
    for (const res of clients) res.write(frame);
  };
}

const server = createServer(handler);
server.maxConnections = 100_000;
server.listen(0, "127.0.0.1", 4096, () => {
  const address = server.address();
  process.send?.({ type: "listening", port: typeof address === "object" && address ? address.port : 0 });
});

function publish(rate: number, ms: number): Promise<number> {
  return new Promise((resolve) => {
    const began = performance.now();
    let published = 0;
    const tick = () => {
      const elapsed = performance.now() - began;
      const due = Math.min(Math.floor((elapsed / 1000) * rate), Math.floor((ms / 1000) * rate));
      while (published < due) {
        publishOne(String(performance.timeOrigin + performance.now()));
        published++;
      }
      if (elapsed >= ms) resolve(published);
      else setTimeout(tick, 2);
    };
    tick();
  });
}

process.on("message", async (m: { type: string; rate?: number; ms?: number }) => {
  if (m.type === "rss") {
    // The same for every server: collect garbage first, so RSS shows what connections retain.
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ type: "rss", rss: process.memoryUsage.rss() });
  } else if (m.type === "publish") {
    const published = await publish(m.rate ?? 1, m.ms ?? 1000);
    process.send?.({ type: "published", published });
  }
});
process.on("SIGTERM", () => process.exit(0));
