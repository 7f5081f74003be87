/**
 * The server-under-test process: `target-process.ts ssekit|ssekit-detach|ssekit-redis|better-sse|naive
 * [http1|h2c] [REDIS_URL]` (`ssekit-detach`: sessions made with `detach: true`; `ssekit-redis`: the
 * channel is on a Redis bus, so every broadcast goes through Redis and back before it is written to
 * the subscribers). Serves
 * GET / as an event stream on 127.0.0.1 (port 0) over node:http, or over node:http2's
 * `createServer` (cleartext HTTP/2, prior knowledge) through its compatibility API; publishes to
 * every subscriber when told (timestamps at a rate, or the sequence 1..n), reports RSS. An ssekit
 * channel also has one in-process member (a Web session read here, a probe) that measures how long
 * after the publish call an event is written to the channel's members in this process, apart from
 * the sockets and the subscriber processes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  createServer as createH2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from "node:http2";
import { redisChannelBus } from "@ssekit/redis";
import { createChannel as betterChannel, createSession as betterSession } from "better-sse";
import { createParser } from "ssekit/protocol";
import {
  createChannel,
  createSession,
  createWebSession,
  type NodeRequest,
  type NodeResponse,
  type Session,
} from "ssekit/server";

const kind = process.argv[2];
const protocol = process.argv[3] === "h2c" ? "h2c" : "http1";
let publishOne: (data: string) => void;
let onHttp1: (req: IncomingMessage, res: ServerResponse) => void;
let onHttp2: (req: Http2ServerRequest, res: Http2ServerResponse) => void;
/** Milliseconds from each publish call to the probe member reading the event, since the last publish step began. */
let written: number[] = [];

/** Adds the probe member to an ssekit channel: a Web session whose stream is parsed here. */
function addProbe(add: (session: Session) => unknown): void {
  const { session, response } = createWebSession(new Request("http://127.0.0.1/probe"), { heartbeat: 0 });
  add(session);
  const parser = createParser({
    onEvent: (event) => {
      const sent = Number(event.data);
      // Only timestamps (the sequence broadcasts send small numbers).
      if (sent > 1e12) written.push(performance.timeOrigin + performance.now() - sent);
    },
  });
  const reader = response.body?.getReader();
  void (async () => {
    for (;;) {
      const chunk = await reader?.read();
      if (chunk === undefined || chunk.done) return;
      parser.feed(chunk.value);
    }
  })();
}

if (kind === "ssekit" || kind === "ssekit-detach") {
  const channel = createChannel();
  const detach = kind === "ssekit-detach";
  const add = (req: NodeRequest, res: NodeResponse) => {
    channel.add(createSession(req, res, { detach }));
  };
  addProbe((session) => channel.add(session));
  onHttp1 = onHttp2 = add;
  publishOne = (data) => channel.broadcast({ data });
} else if (kind === "ssekit-redis") {
  const bus = redisChannelBus({ redis: process.argv[4] ?? "", key: `bench:${process.pid}` });
  const channel = createChannel({ bus });
  await channel.ready();
  const add = (req: NodeRequest, res: NodeResponse) => {
    void channel.add(createSession(req, res));
  };
  addProbe((session) => channel.add(session));
  onHttp1 = onHttp2 = add;
  publishOne = (data) => {
    channel.broadcast({ data }).catch((error: unknown) => {
      console.error(
        `bench target: broadcast failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  };
} else if (kind === "better-sse") {
  const channel = betterChannel();
  onHttp1 = async (req, res) => {
    channel.register(await betterSession(req, res, { serializer: String }));
  };
  onHttp2 = async (req, res) => {
    channel.register(await betterSession(req, res, { serializer: String }));
  };
  publishOne = (data) => channel.broadcast(data);
} else {
  // The naive broadcaster: an array of responses and one res.write per message.
  interface Writer {
    setHeader(name: string, value: string): unknown;
    write(frame: string): boolean;
  }
  const clients = new Set<Writer>();
  const add = (req: { on(event: "close", listener: () => void): unknown }, res: Writer) => {
    res.setHeader("content-type", "text/event-stream");
    res.setHeader("cache-control", "no-cache");
    res.write(":\n\n");
    clients.add(res);
    req.on("close", () => clients.delete(res));
  };
  onHttp1 = onHttp2 = add;
  publishOne = (data) => {
    const frame = `data: ${data}\n\n`;
    for (const res of clients) res.write(frame);
  };
}

const onListening = (address: ReturnType<ReturnType<typeof createServer>["address"]>) =>
  process.send?.({ type: "listening", port: typeof address === "object" && address ? address.port : 0 });
if (protocol === "h2c") {
  // Many streams per connection: the default per-connection memory bound (10 MB) and the
  // default stream limit (unbounded) are what this bench measures, so none is changed here.
  const server = createH2Server(onHttp2);
  server.listen(0, "127.0.0.1", 4096, () => onListening(server.address()));
} else {
  const server = createServer(onHttp1);
  server.maxConnections = 100_000;
  server.listen(0, "127.0.0.1", 4096, () => onListening(server.address()));
}

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

/** Publishes 1, 2, ..., count as the data of `count` broadcasts, `intervalMs` apart. */
async function sequence(count: number, intervalMs: number): Promise<number> {
  for (let n = 1; n <= count; n++) {
    publishOne(String(n));
    if (n < count) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return count;
}

process.on("message", async (m: { type: string; rate?: number; ms?: number; count?: number }) => {
  if (m.type === "sequence") {
    const published = await sequence(m.count ?? 1, m.ms ?? 100);
    process.send?.({ type: "sequenced", published });
  } else if (m.type === "rss") {
    // The same for every server: collect garbage first, so RSS shows what connections retain.
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ type: "rss", rss: process.memoryUsage.rss() });
  } else if (m.type === "written") {
    const sorted = [...written].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    process.send?.({ type: "written", count: sorted.length, p50: at(0.5), p99: at(0.99) });
  } else if (m.type === "publish") {
    written = [];
    const published = await publish(m.rate ?? 1, m.ms ?? 1000);
    process.send?.({ type: "published", published });
  }
});
process.on("SIGTERM", () => process.exit(0));
