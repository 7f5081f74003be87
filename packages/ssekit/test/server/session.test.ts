import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  type ClientHttp2Stream,
  connect as connectHttp2,
  createServer as createHttp2Server,
} from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { after, describe, test } from "node:test";
import { EventSource } from "eventsource";
import { createParser, type ParsedEvent, SseEncodeError } from "../../src/protocol/index.js";
import { activeHeartbeatTimers } from "../../src/server/heartbeat.js";
import {
  type CloseReason,
  createSession,
  createWebSession,
  flushWrites,
  type Session,
} from "../../src/server/index.js";
import { Collected, listen, RawClient } from "./support.js";

/** `curl -sN url`: what it printed so far, and its exit code once it has exited. */
function curlStream(url: string) {
  const child = spawn("curl", ["-sN", url], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  return {
    exited: new Promise<number | null>((resolve) => child.on("exit", resolve)),
    output: () => out,
    kill: () => child.kill(),
  };
}

type Prices = { price: { symbol: string; p: number }; note: string };

describe("Node session", () => {
  const sessions = new Collected<Session<Prices>>();
  const closes = new Collected<CloseReason>();
  let options: Parameters<typeof createSession>[2] = {};
  const serverP = listen((req, res) => {
    const session = createSession<Prices>(req, res, options);
    void session.closed.then((reason) => closes.push(reason));
    sessions.push(session);
  });
  after(async () => (await serverP).close());

  test("writes the event-stream headers, keep-alive on HTTP/1.1, and a first comment at once", async () => {
    options = {};
    const { port } = await serverP;
    const client = new RawClient(port, "/");
    try {
      await client.comments.until(1);
      assert.match(client.head, /^HTTP\/1\.1 200/);
      assert.equal(client.header("content-type"), "text/event-stream; charset=utf-8");
      assert.equal(client.header("cache-control"), "no-cache, no-transform");
      assert.equal(client.header("x-accel-buffering"), "no");
      assert.equal(client.header("connection"), "keep-alive");
      assert.equal(client.header("transfer-encoding"), "chunked");
    } finally {
      client.close();
    }
  });

  test("sends retry on connect when configured, instead of the comment", async () => {
    options = { retry: 1234 };
    const { port } = await serverP;
    const client = new RawClient(port, "/");
    try {
      assert.deepEqual(await client.retries.until(1), [1234]);
      assert.equal(client.comments.items.length, 0);
    } finally {
      client.close();
      options = {};
    }
  });

  test("typed send reaches the eventsource package as JSON with its event name and id", async () => {
    const { url } = await serverP;
    const before = sessions.items.length;
    const es = new EventSource(`${url}/prices`);
    try {
      const got = new Collected<MessageEvent>();
      es.addEventListener("price", (e) => got.push(e));
      es.addEventListener("message", (e) => got.push(e));
      const [session] = (await sessions.until(before + 1)).slice(before);
      assert.ok(session);
      session.send("price", { symbol: "ACME", p: 101.5 }, { id: "7" });
      session.send({ data: "multi\nline" });
      const [price, plain] = await got.until(2);
      assert.equal(price?.type, "price");
      assert.deepEqual(JSON.parse(String(price?.data)), { symbol: "ACME", p: 101.5 });
      assert.equal(price?.lastEventId, "7");
      assert.equal(plain?.data, "multi\nline");
    } finally {
      es.close();
    }
  });

  test("reads Last-Event-ID from the header, then lastEventId and lastEventID query parameters", async () => {
    const { port } = await serverP;
    const cases: [string, Record<string, string>, string | undefined][] = [
      ["/", { "Last-Event-ID": "h1" }, "h1"],
      ["/?lastEventId=q1", {}, "q1"],
      ["/?topic=x&lastEventID=q2", {}, "q2"],
      ["/?lastEventId=q3", { "Last-Event-ID": "h3" }, "h3"],
      ["/", {}, undefined],
    ];
    for (const [path, headers, expected] of cases) {
      const before = sessions.items.length;
      const client = new RawClient(port, path, headers);
      try {
        const [session] = (await sessions.until(before + 1)).slice(before);
        assert.equal(session?.lastEventId, expected, path);
      } finally {
        client.close();
      }
    }
  });

  test("closed resolves with 'client' when the client goes away, and its heartbeat timer is gone", async () => {
    options = { heartbeat: 60_000 };
    const { port } = await serverP;
    const before = sessions.items.length;
    const client = new RawClient(port, "/");
    const [session] = (await sessions.until(before + 1)).slice(before);
    assert.ok(session);
    assert.ok(activeHeartbeatTimers() >= 1);
    client.close();
    assert.equal(await session.closed, "client");
    assert.equal(session.isOpen, false);
    assert.equal(session.send("note", "late"), false);
    assert.equal(activeHeartbeatTimers(), 0);
    options = {};
  });

  test("writes heartbeat comments on the timer", async () => {
    options = { heartbeat: 20 };
    const { port } = await serverP;
    const client = new RawClient(port, "/");
    try {
      // The connect comment is "", a heartbeat is another "" comment.
      await client.comments.until(3);
      assert.ok(client.comments.items.every((c) => c === ""));
    } finally {
      client.close();
      options = {};
    }
  });

  test("close({ retry }) sends the retry hint and ends the stream; curl -N sees it all", async () => {
    const { url } = await serverP;
    const before = sessions.items.length;
    const curl = curlStream(`${url}/`);
    try {
      const [session] = (await sessions.until(before + 1)).slice(before);
      assert.ok(session);
      session.send("note", "hello", { id: "1" });
      session.comment("bye");
      session.close({ retry: 5000 });
      assert.equal(await curl.exited, 0);
      assert.equal(curl.output(), ':\n\nevent: note\nid: 1\ndata: "hello"\n\n: bye\n\nretry: 5000\n\n');
      assert.equal(await session.closed, "server");
    } finally {
      curl.kill();
    }
  });

  test("global fetch reads the stream; an invalid event name throws SseEncodeError", async () => {
    const { url } = await serverP;
    const before = sessions.items.length;
    const controller = new AbortController();
    const response = await fetch(`${url}/`, { signal: controller.signal });
    try {
      assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
      const [session] = (await sessions.until(before + 1)).slice(before);
      assert.ok(session);
      assert.throws(() => session.send({ event: "a\nb", data: "x" }), SseEncodeError);
      session.send({ data: "ok" });
      const events = new Collected<ParsedEvent>();
      const parser = createParser({ onEvent: (e) => events.push(e) });
      const reader = response.body?.getReader();
      assert.ok(reader);
      void (async () => {
        for (let r = await reader.read(); !r.done; r = await reader.read()) parser.feed(r.value);
      })().catch(() => {});
      assert.equal((await events.until(1))[0]?.data, "ok");
    } finally {
      controller.abort();
    }
  });
});

describe("Node session with detach", () => {
  const sessions = new Collected<Session<Prices>>();
  const appCloses = new Collected<string>();
  const serverP = listen((req, res) => {
    const session = createSession<Prices>(req, res, { detach: true });
    // A path whose handler listens to the request itself: that session stays attached.
    if (req.url === "/app-listens") req.on("close", () => appCloses.push(req.url ?? ""));
    sessions.push(session);
  });
  after(async () => (await serverP).close());
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  test("the stream goes on after the detach, and close({ retry }) ends it as a complete response for curl", async () => {
    const { url } = await serverP;
    const before = sessions.items.length;
    const curl = curlStream(`${url}/`);
    try {
      const [session] = (await sessions.until(before + 1)).slice(before);
      assert.ok(session);
      await turns(3);
      session.send("note", "after the detach", { id: "7" });
      session.close({ retry: 5000 });
      // curl exits 0 only on a chunked response ended by its last chunk.
      assert.equal(await curl.exited, 0);
      assert.equal(curl.output(), ':\n\nevent: note\nid: 7\ndata: "after the detach"\n\nretry: 5000\n\n');
      assert.equal(await session.closed, "server");
    } finally {
      curl.kill();
    }
  });

  test("closed resolves with 'client' when the client of a detached session goes away", async () => {
    const { port } = await serverP;
    const before = sessions.items.length;
    const client = new RawClient(port, "/");
    const [session] = (await sessions.until(before + 1)).slice(before);
    assert.ok(session);
    await client.comments.until(1);
    await turns(3);
    session.send("price", { symbol: "ACME", p: 1 });
    await client.events.until(1);
    client.close();
    assert.equal(await session.closed, "client");
  });

  test("a session whose request the app listens to stays attached, and the app's listener is called", async () => {
    const { port } = await serverP;
    const before = sessions.items.length;
    const client = new RawClient(port, "/app-listens");
    const [session] = (await sessions.until(before + 1)).slice(before);
    assert.ok(session);
    await client.comments.until(1);
    await turns(3);
    client.close();
    assert.equal(await session.closed, "client");
    assert.deepEqual(await appCloses.until(1), ["/app-listens"]);
  });
});

test("over HTTP/2, a detached session gets events, ends on close() and sees its client cancel", async () => {
  const sessions = new Collected<Session>();
  const server = createHttp2Server((req, res) => sessions.push(createSession(req, res, { detach: true })));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const client = connectHttp2(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const read = (stream: ClientHttp2Stream) => {
    let text = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      text += chunk;
    });
    return { text: () => text, ended: once(stream, "end") };
  };
  try {
    const first = read(client.request({ ":path": "/a" }));
    const [a] = await sessions.until(1);
    assert.ok(a);
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    a.send({ id: "1", data: "after the detach" });
    a.close({ retry: 1000 });
    await first.ended;
    assert.equal(first.text(), ":\n\nid: 1\ndata: after the detach\n\nretry: 1000\n\n");
    assert.equal(await a.closed, "server");

    const stream = client.request({ ":path": "/b" });
    const second = read(stream);
    const [, b] = await sessions.until(2);
    assert.ok(b);
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    b.send({ data: "live" });
    while (!second.text().includes("live")) await new Promise((resolve) => setTimeout(resolve, 5));
    stream.close();
    assert.equal(await b.closed, "client");
  } finally {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe("Web session", () => {
  test("builds a Response with the headers and a body that carries events", async () => {
    const request = new Request("http://example.test/stream?lastEventId=9");
    const { session, response } = createWebSession<Prices>(request, { retry: 100 });
    assert.equal(session.lastEventId, "9");
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(response.headers.get("cache-control"), "no-cache, no-transform");
    assert.equal(response.headers.get("x-accel-buffering"), "no");
    assert.equal(response.headers.get("connection"), null);
    session.send("price", { symbol: "X", p: 1 });
    session.close();
    assert.equal(await response.text(), 'retry: 100\n\nevent: price\ndata: {"symbol":"X","p":1}\n\n');
  });

  test("cancelling the body closes the session with 'client'", async () => {
    const before = activeHeartbeatTimers();
    const { session, response } = createWebSession(new Request("http://example.test/"), { heartbeat: 4321 });
    assert.equal(activeHeartbeatTimers(), before + 1);
    await response.body?.cancel();
    assert.equal(await session.closed, "client");
    assert.equal(activeHeartbeatTimers(), before);
  });

  test("the request's abort signal closes the session", async () => {
    const controller = new AbortController();
    const { session } = createWebSession(new Request("http://example.test/", { signal: controller.signal }));
    controller.abort();
    assert.equal(await session.closed, "client");
  });
});

test("flushWrites uncorks at once the sockets that sessions corked in this turn", async () => {
  const opened = new Collected<{ session: Session; socket: Socket }>();
  const server = await listen((req, res) => {
    const session = createSession(req, res);
    if (res.socket) opened.push({ session, socket: res.socket });
  });
  const client = new RawClient(server.port, "/flush");
  try {
    const [first] = await opened.until(1);
    assert.ok(first);
    await client.comments.until(1);
    const corked = await new Promise<[number, number]>((resolve) =>
      setImmediate(() => {
        first.session.send({ data: "now" });
        const before = first.socket.writableCorked;
        flushWrites();
        resolve([before, first.socket.writableCorked]);
      }),
    );
    assert.deepEqual(corked, [1, 0]);
  } finally {
    client.close();
    await server.close();
  }
});
