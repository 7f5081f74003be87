// Heap kept per idle session, against the floor every node:http server pays: a bare response kept
// in an array (what a hand-written broadcaster does). Both rounds run in this process with the same
// raw clients, after a warm-up round of each, so compiled code and client sockets cost them alike.
import assert from "node:assert/strict";
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { connect as connectHttp2, createServer as createHttp2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { createChannel, createSession, createStreamSession } from "../../src/server/index.js";
import { heapAfterGc } from "../support/heap.js";
import { listen } from "./support.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Opens `count` idle event-stream connections to a fresh server; returns heap bytes per connection. */
async function heapPerConnection(makeHandler: () => { handler: Handler; release(): void }, count: number) {
  const { handler, release } = makeHandler();
  let answered = 0;
  let allAnswered: () => void = () => {};
  const answeredAll = new Promise<void>((resolve) => {
    allAnswered = resolve;
  });
  const server = await listen((req, res) => {
    handler(req, res);
    if (++answered === count) allAnswered();
  });
  const sockets: Socket[] = [];
  try {
    const before = heapAfterGc();
    for (let i = 0; i < count; i++) {
      const socket = connect(server.port, "127.0.0.1");
      socket.on("error", () => {});
      socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
      sockets.push(socket);
    }
    await answeredAll;
    // Every client has its first bytes: the connections are idle.
    await Promise.all(sockets.map((s) => once(s, "data")));
    const after = heapAfterGc();
    return (after - before) / count;
  } finally {
    // Everything of this round is gone before the next one measures its baseline.
    const closed = sockets.map((s) => (s.destroyed ? Promise.resolve() : once(s, "close")));
    for (const socket of sockets) socket.destroy();
    release();
    await server.close();
    await Promise.all(closed);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function naive() {
  const clients: ServerResponse[] = [];
  const handler: Handler = (req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(":\n\n");
    clients.push(res);
    req.on("close", () => clients.splice(clients.indexOf(res), 1));
  };
  return { handler, release: () => clients.splice(0) };
}

function ssekit() {
  const channel = createChannel();
  const handler: Handler = (req, res) => {
    channel.add(createSession(req, res));
  };
  return { handler, release: () => channel.close() };
}

test(
  "an idle session keeps at least a quarter KiB less heap than a bare node:http response kept in an array",
  { timeout: 60_000 },
  async () => {
    await heapPerConnection(naive, 200);
    await heapPerConnection(ssekit, 200);
    const floor = await heapPerConnection(naive, 800);
    const ours = await heapPerConnection(ssekit, 800);
    console.log(
      `heap per idle connection: ssekit ${Math.round(ours)} B, bare response ${Math.round(floor)} B`,
    );
    // A quarter KiB under the floor: a per-session closure, timer or property dictionary would eat it.
    assert.ok(
      ours < floor - 256,
      `ssekit keeps ${Math.round(ours)} B per idle session, the floor is ${Math.round(floor)} B`,
    );
  },
);

function ssekitDetached() {
  const channel = createChannel();
  const handler: Handler = (req, res) => {
    channel.add(createSession(req, res, { detach: true }));
  };
  return { handler, release: () => channel.close() };
}

test(
  "with detach, an idle session keeps less than half the heap of a bare node:http response",
  { timeout: 60_000 },
  async () => {
    await heapPerConnection(naive, 200);
    await heapPerConnection(ssekitDetached, 200);
    const floor = await heapPerConnection(naive, 800);
    const ours = await heapPerConnection(ssekitDetached, 800);
    console.log(
      `heap per idle connection: detached ${Math.round(ours)} B, bare response ${Math.round(floor)} B`,
    );
    // Both figures count the client's socket, which is in this process too (about 1.1 KiB).
    assert.ok(
      ours < floor / 2,
      `detached sessions keep ${Math.round(ours)} B, the floor is ${Math.round(floor)} B`,
    );
  },
);

/**
 * Heap kept per idle HTTP/2 session: on the compatibility API, with or without `detach`, or on the
 * core API (`createStreamSession`, no request and response objects at all).
 */
async function heapPerHttp2Stream(mode: "attached" | "detached" | "core", count: number): Promise<number> {
  const channel = createChannel();
  const settings = { maxConcurrentStreams: count };
  const server =
    mode === "core"
      ? createHttp2Server({ settings }).on("stream", (stream, headers) => {
          channel.add(createStreamSession(stream, headers));
        })
      : createHttp2Server({ settings }, (req, res) => {
          channel.add(createSession(req, res, { detach: mode === "detached" }));
        });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const client = connectHttp2(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    const before = heapAfterGc();
    const streams = [];
    for (let i = 0; i < count; i++) streams.push(client.request({ ":path": `/${i}` }));
    await Promise.all(streams.map((stream) => once(stream, "data")));
    // Detached one turn after opening.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    return (heapAfterGc() - before) / count;
  } finally {
    channel.close();
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test(
  "over HTTP/2, detach lets go of at least 1 KiB of heap per idle session",
  { timeout: 60_000 },
  async () => {
    await heapPerHttp2Stream("attached", 200);
    await heapPerHttp2Stream("detached", 200);
    const kept = await heapPerHttp2Stream("attached", 2000);
    const detached = await heapPerHttp2Stream("detached", 2000);
    console.log(
      `heap per idle HTTP/2 session: detached ${Math.round(detached)} B, attached ${Math.round(kept)} B`,
    );
    // The compatibility API's request and response, which the stream holds while it is open.
    assert.ok(detached < kept - 1024, `detached ${Math.round(detached)} B, attached ${Math.round(kept)} B`);
  },
);

test(
  "over HTTP/2's core API, an idle session keeps no more heap than a detached compatibility session",
  { timeout: 60_000 },
  async () => {
    await heapPerHttp2Stream("detached", 200);
    await heapPerHttp2Stream("core", 200);
    const detached = await heapPerHttp2Stream("detached", 2000);
    const core = await heapPerHttp2Stream("core", 2000);
    console.log(
      `heap per idle HTTP/2 session: core API ${Math.round(core)} B, detached ${Math.round(detached)} B`,
    );
    // What they keep is the same (the stream and the session); the core API never made the
    // compatibility objects, which a detached session lets go of one turn late.
    assert.ok(core < detached + 128, `core API ${Math.round(core)} B, detached ${Math.round(detached)} B`);
  },
);
