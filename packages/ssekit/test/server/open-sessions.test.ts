// The process-wide set of open sessions and what walks it: heartbeat timers (one per interval,
// each beating only its own sessions), shutdown(server) (only that server's sessions), and the
// memberships a session leaves when it closes. Real sockets on 127.0.0.1, raw HTTP/1.1 clients.
import assert from "node:assert/strict";
import { test } from "node:test";
import { activeHeartbeatTimers } from "../../src/server/heartbeat.js";
import {
  createChannel,
  createSession,
  type Session,
  type SessionOptions,
  shutdown,
} from "../../src/server/index.js";
import { Collected, listen, RawClient } from "./support.js";

/** A server whose sessions take their options from the `?hb=` query parameter (heartbeat ms). */
async function sessionServer() {
  const sessions = new Collected<Session>();
  const server = await listen((req, res) => {
    const hb = new URL(req.url ?? "/", "http://x").searchParams.get("hb");
    const options: SessionOptions = hb === null ? {} : { heartbeat: Number(hb) };
    sessions.push(createSession(req, res, options));
  });
  return { server, sessions };
}

test(
  "each heartbeat interval has one timer that beats only its own sessions, and none is left after they close",
  { timeout: 20_000 },
  async () => {
    const { server, sessions } = await sessionServer();
    const fast = new RawClient(server.port, "/?hb=15");
    const slower = new RawClient(server.port, "/?hb=25");
    const silent = new RawClient(server.port, "/?hb=0");
    try {
      const opened = await sessions.until(3);
      assert.equal(activeHeartbeatTimers(), 2);
      // The connect comment is "", each heartbeat another "".
      await Promise.all([fast.comments.until(4), slower.comments.until(4)]);
      assert.deepEqual(silent.comments.items, [""]);
      for (const session of opened) session.close();
      await Promise.all(opened.map((s) => s.closed));
      assert.equal(activeHeartbeatTimers(), 0);
    } finally {
      for (const client of [fast, slower, silent]) client.close();
      await server.close();
    }
  },
);

test(
  "shutdown(server) ends the sessions of that server and leaves another server's open",
  {
    timeout: 20_000,
  },
  async () => {
    const a = await sessionServer();
    const b = await sessionServer();
    const clientA = new RawClient(a.server.port, "/");
    const clientB = new RawClient(b.server.port, "/");
    try {
      const [sessionA] = await a.sessions.until(1);
      const [sessionB] = await b.sessions.until(1);
      assert.ok(sessionA && sessionB);
      await shutdown(a.server.server, { retry: 3000 });
      await clientA.ended;
      assert.deepEqual(clientA.retries.items, [3000]);
      assert.equal(await sessionA.closed, "server");
      assert.equal(sessionB.isOpen, true);
      assert.equal(sessionB.send({ data: "still here" }), true);
      assert.deepEqual(
        (await clientB.events.until(1)).map((e) => e.data),
        ["still here"],
      );
    } finally {
      clientA.close();
      clientB.close();
      if (a.server.server.listening) await a.server.close();
      await b.server.close();
    }
  },
);

test(
  "a session in two channels gets both broadcasts, stays in one after leaving the other, and leaves all on close",
  {
    timeout: 20_000,
  },
  async () => {
    const { server, sessions } = await sessionServer();
    const client = new RawClient(server.port, "/?hb=0");
    const news = createChannel();
    const prices = createChannel();
    try {
      const [session] = await sessions.until(1);
      assert.ok(session);
      news.add(session);
      prices.add(session, { filter: (e) => e.event !== "hidden" });
      news.broadcast({ data: "n1" });
      prices.broadcast({ data: "p1" });
      prices.broadcast({ data: "no", event: "hidden" });
      assert.equal(news.remove(session), true);
      news.broadcast({ data: "not delivered" });
      prices.broadcast({ data: "p2" });
      news.add(session);
      news.broadcast({ data: "n2" });
      const events = await client.events.until(4);
      assert.deepEqual(
        events.map((e) => e.data),
        ["n1", "p1", "p2", "n2"],
      );
      client.close();
      assert.equal(await session.closed, "client");
      assert.equal(news.size, 0);
      assert.equal(prices.size, 0);
      assert.equal(prices.has(session), false);
    } finally {
      client.close();
      await server.close();
    }
  },
);

test(
  "sessions opened together with different headers each get their own head",
  {
    timeout: 20_000,
  },
  async () => {
    const sessions = new Collected<Session>();
    const server = await listen((req, res) => {
      const origin = new URL(req.url ?? "/", "http://x").searchParams.get("origin") ?? "none";
      const session = createSession(req, res, { headers: { "access-control-allow-origin": origin } });
      assert.equal(res.headersSent, true);
      sessions.push(session);
    });
    const names = ["a", "a", "b", "a"];
    const clients = names.map((name) => new RawClient(server.port, `/?origin=https://${name}.example`));
    try {
      const opened = await sessions.until(names.length);
      for (const session of opened) session.send({ data: "hi" });
      await Promise.all(clients.map((c) => c.events.until(1)));
      clients.forEach((client, i) => {
        assert.equal(client.header("access-control-allow-origin"), `https://${names[i]}.example`);
        assert.equal(client.header("content-type"), "text/event-stream; charset=utf-8");
        assert.deepEqual(
          client.events.items.map((e) => e.data),
          ["hi"],
        );
      });
    } finally {
      for (const client of clients) client.close();
      await server.close();
    }
  },
);
