// What an idle subscriber costs the hub, and what it still gets. Heap kept per idle subscriber is
// measured against the floor every node:http server pays (a bare event-stream response kept in an
// array), both rounds in this process with the same raw clients, after a warm-up round of each, so
// compiled code and client sockets cost them alike. The idle subscribers still get heartbeats
// (from ssekit/server's one sweep per interval) and the discovery and CORS headers, on the stream and on its errors.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as connectHttp2,
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerResponse,
} from "node:http2";
import { connect, type Socket } from "node:net";
import { describe, test } from "node:test";
import { heapAfterGc } from "../../../ssekit/test/support/heap.js";
import { createHub } from "../../src/index.js";
import { MAX_STREAMS_PER_CONNECTION } from "../../src/server/hub.js";
import { type Certificate, selfSignedCertificate } from "../support/tls-support.js";

interface Target {
  readonly port: number;
  close(): Promise<void>;
}

/** A response of a bare server: what `keepOpen` calls on it. */
interface BareResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): unknown;
}

/**
 * The handler of a bare server: opens every response with the event-stream head and a comment and
 * keeps it in `kept` until its request closes.
 */
function keepOpen<R extends BareResponse>(kept: R[]) {
  return (req: { on(event: "close", listener: () => void): unknown }, res: R) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(":\n\n");
    kept.push(res);
    req.on("close", () => kept.splice(kept.indexOf(res), 1));
  };
}

/** Listens on a free loopback port; `close` lets go of `kept` and closes the server. */
async function listenBare(server: Server | Http2SecureServer, kept: unknown[]): Promise<Target> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the bare server has no port");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        kept.splice(0);
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A server that keeps every response, opened with the event-stream head and a comment, in an array. */
function bareServer(): Promise<Target> {
  const kept: ServerResponse[] = [];
  return listenBare(createServer(keepOpen(kept)), kept);
}

/** A hub as the bench runs it: memory store, anonymous subscribers, subscription events and heartbeats on. */
async function hub(): Promise<Target> {
  const started = createHub({ store: "memory", anonymous: true, logger: "silent", ui: false });
  const { port } = await started.listen(0, "127.0.0.1");
  return { port, close: () => started.close() };
}

let round = 0;
const BATCH = 100;

/** Opens `count` idle subscribers, each on its own topic; returns the heap bytes kept per subscriber. */
async function heapPerSubscriber(start: () => Promise<Target>, count: number): Promise<number> {
  const target = await start();
  const sockets: Socket[] = [];
  round++;
  try {
    const before = heapAfterGc();
    // In batches, so that the listen backlog never overflows.
    for (let first = 0; first < count; first += BATCH) {
      const batch: Socket[] = [];
      for (let i = first; i < Math.min(count, first + BATCH); i++) {
        const socket = connect(target.port, "127.0.0.1");
        socket.write(
          `GET /.well-known/mercure?topic=https://example.test/idle/${round}/${i} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`,
        );
        batch.push(socket);
        sockets.push(socket);
      }
      // Every client of the batch has its first bytes: those subscribers are open and idle.
      await Promise.all(batch.map((s) => once(s, "data")));
    }
    // The subscription events are published once each subscriber is open: let them land.
    await new Promise((resolve) => setImmediate(resolve));
    const after = heapAfterGc();
    return (after - before) / count;
  } finally {
    const closed = sockets.map((s) => (s.destroyed ? Promise.resolve() : once(s, "close")));
    for (const socket of sockets) socket.destroy();
    await Promise.all(closed);
    await target.close();
    // Everything of this round is gone before the next one measures its baseline.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Over HTTP/2 with TLS: a server keeping every compatibility response (node:http2's floor), or the hub. */
function bareHttp2Server(certificate: Certificate): Promise<Target> {
  const kept: Http2ServerResponse[] = [];
  const server = createSecureServer(
    {
      cert: certificate.cert,
      key: certificate.key,
      settings: { maxConcurrentStreams: MAX_STREAMS_PER_CONNECTION },
    },
    keepOpen(kept),
  );
  return listenBare(server, kept);
}

async function http2Hub(certificate: Certificate): Promise<Target> {
  const started = createHub({
    store: "memory",
    anonymous: true,
    logger: "silent",
    ui: false,
    tls: { cert: certificate.cert, key: certificate.key },
  });
  const { port } = await started.listen(0, "127.0.0.1");
  return { port, close: () => started.close() };
}

/** `count` idle HTTP/2 subscribers (each on its own topic) over as few connections as the hub allows. */
async function heapPerHttp2Subscriber(start: () => Promise<Target>, count: number): Promise<number> {
  const target = await start();
  const sessions: ClientHttp2Session[] = [];
  const streams: ClientHttp2Stream[] = [];
  round++;
  try {
    const before = heapAfterGc();
    for (let first = 0; first < count; first += MAX_STREAMS_PER_CONNECTION) {
      const session = connectHttp2(`https://127.0.0.1:${target.port}`, { rejectUnauthorized: false });
      session.on("error", () => undefined);
      sessions.push(session);
      for (let i = first; i < Math.min(count, first + MAX_STREAMS_PER_CONNECTION); i++) {
        const stream = session.request({
          ":path": `/.well-known/mercure?topic=https://example.test/idle-h2/${round}/${i}`,
        });
        stream.on("error", () => undefined);
        streams.push(stream);
      }
    }
    await Promise.all(streams.map((s) => once(s, "data")));
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    const after = heapAfterGc();
    return (after - before) / count;
  } finally {
    for (const session of sessions) session.destroy();
    await target.close();
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads from a raw HTTP/1.1 connection until `done(text so far)`; returns the text. */
async function readUntil(port: number, request: string, done: (text: string) => boolean): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  try {
    socket.setEncoding("latin1");
    socket.write(request);
    let text = "";
    for await (const chunk of socket) {
      text += String(chunk);
      if (done(text)) return text;
    }
    return text;
  } finally {
    socket.destroy();
  }
}

describe("idle subscribers", () => {
  test(
    "an idle subscriber, with its subscription event in history, keeps less than half the heap of a bare node:http response kept in an array",
    { timeout: 120_000 },
    async () => {
      await heapPerSubscriber(bareServer, 200);
      await heapPerSubscriber(hub, 200);
      const floor = await heapPerSubscriber(bareServer, 2000);
      const ours = await heapPerSubscriber(hub, 2000);
      console.log(
        `heap per idle subscriber: hub ${Math.round(ours)} B, bare response ${Math.round(floor)} B`,
      );
      // Measured about 2.8 KiB against 6.6 KiB (both with the client's socket, in this process too):
      // the hub's sessions are detached from node:http once open (ssekit/server's `detach`), so the
      // request, the response and node:http's parser state go; what stays is the socket, the
      // session, the subscriber and its index entry, and the subscription event in history. Attached,
      // the hub kept about 0.1 KiB over the floor.
      assert.ok(
        ours < floor / 2,
        `the hub keeps ${Math.round(ours)} B per idle subscriber, the floor is ${Math.round(floor)} B`,
      );
    },
  );

  test(
    "over HTTP/2, an idle subscriber keeps at least 0.75 KiB less heap than a bare compatibility response",
    { timeout: 120_000 },
    async () => {
      const certificate = selfSignedCertificate();
      try {
        const bare = () => bareHttp2Server(certificate);
        const ours = () => http2Hub(certificate);
        await heapPerHttp2Subscriber(bare, 200);
        await heapPerHttp2Subscriber(ours, 200);
        const floor = await heapPerHttp2Subscriber(bare, 2000);
        const hub = await heapPerHttp2Subscriber(ours, 2000);
        console.log(
          `heap per idle HTTP/2 subscriber: hub ${Math.round(hub)} B, bare compatibility response ${Math.round(floor)} B`,
        );
        // Measured about 4.7 KiB against 5.7 (both with the client's streams, in this process too).
        // The hub serves subscriptions on the stream itself (ssekit/server's createStreamSession):
        // no compatibility request and response are made for them. Made and then let go of
        // (`detach`), they left 5.1 KiB after a collection, and the process's resident memory
        // 1.6 KiB more per subscriber, since they were allocated at all.
        assert.ok(hub < floor - 768, `hub ${Math.round(hub)} B, floor ${Math.round(floor)} B`);
      } finally {
        certificate.dispose();
      }
    },
  );

  test(
    "idle subscribers get heartbeat comments from ssekit/server's one sweep",
    { timeout: 20_000 },
    async () => {
      const started = createHub({
        store: "memory",
        anonymous: true,
        logger: "silent",
        ui: false,
        heartbeatMs: 50,
      });
      const { port } = await started.listen(0, "127.0.0.1");
      try {
        const preamble = "retry: ";
        // A heartbeat is an empty comment after the preamble; two of them, on each of two streams.
        const beats = (text: string) => text.slice(text.indexOf(preamble)).split(":\n\n").length - 1;
        const read = (topic: string) =>
          readUntil(
            port,
            `GET /.well-known/mercure?topic=${topic} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
            (text) => text.includes(preamble) && beats(text) >= 2,
          );
        const [a, b] = await Promise.all([read("/beat/a"), read("/beat/b")]);
        assert.ok(beats(a) >= 2 && beats(b) >= 2, `streams read: ${JSON.stringify([a, b])}`);
      } finally {
        await started.close();
      }
    },
  );

  test("an event stream and a refused subscription both carry the discovery and CORS headers", async () => {
    const started = createHub({
      store: "memory",
      anonymous: true,
      logger: "silent",
      ui: false,
      heartbeatMs: 0,
      cors: ["https://app.example.test"],
    });
    const { url } = await started.listen(0, "127.0.0.1");
    const controller = new AbortController();
    try {
      const headers = { origin: "https://app.example.test" };
      const stream = await fetch(`${url}/.well-known/mercure?topic=/cors/stream`, {
        headers,
        signal: controller.signal,
      });
      assert.equal(stream.status, 200);
      assert.equal(stream.headers.get("content-type"), "text/event-stream; charset=utf-8");
      assert.equal(stream.headers.get("link"), '</.well-known/mercure>; rel="mercure"');
      assert.equal(stream.headers.get("access-control-allow-origin"), "https://app.example.test");
      const refused = await fetch(`${url}/.well-known/mercure`, { headers });
      assert.equal(refused.status, 400);
      assert.match(await refused.text(), /missing topic selector/);
      assert.equal(refused.headers.get("link"), '</.well-known/mercure>; rel="mercure"');
      assert.equal(refused.headers.get("access-control-allow-origin"), "https://app.example.test");
    } finally {
      controller.abort();
      await started.close();
    }
  });
});
