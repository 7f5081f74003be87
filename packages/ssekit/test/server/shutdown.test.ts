import assert from "node:assert/strict";
import { test } from "node:test";
import { createChannel, createSession, type Session, shutdown } from "../../src/server/index.js";
import { Collected, listen, RawClient } from "./support.js";

test(
  "shutdown(server) sends every session a retry hint, lets written events arrive, ends them and closes the server",
  { timeout: 20_000 },
  async () => {
    const channel = createChannel();
    const joined = new Collected<Session>();
    const server = await listen((req, res) => {
      const session = createSession(req, res);
      channel.add(session);
      joined.push(session);
    });
    const clients = [new RawClient(server.port, "/"), new RawClient(server.port, "/")];
    try {
      await joined.until(2);
      channel.broadcast({ data: "last words", id: "9" });
      await shutdown(server.server, { retry: 7000 });
      for (const client of clients) {
        await client.ended;
        assert.deepEqual(
          client.events.items.map((e) => e.data),
          ["last words"],
        );
        assert.deepEqual(client.retries.items, [7000]);
      }
      assert.equal(channel.size, 0);
      assert.equal(server.server.listening, false);
      assert.deepEqual(await Promise.all(joined.items.map((s) => s.closed)), ["server", "server"]);
    } finally {
      for (const client of clients) client.close();
      if (server.server.listening) await server.close();
    }
  },
);

test("channel.close({ retry }) ends its members with the hint; later broadcasts and adds do nothing", async () => {
  const channel = createChannel({ history: 10 });
  const joined = new Collected<Session>();
  const server = await listen((req, res) => {
    const session = createSession(req, res);
    channel.add(session);
    joined.push(session);
  });
  const client = new RawClient(server.port, "/");
  try {
    await joined.until(1);
    channel.broadcast({ data: "a" });
    channel.close({ retry: 2500 });
    await client.ended;
    assert.deepEqual(client.retries.items, [2500]);
    assert.equal(channel.broadcast({ data: "b" }), undefined);
    assert.equal(channel.size, 0);
  } finally {
    client.close();
    await server.close();
  }
});
