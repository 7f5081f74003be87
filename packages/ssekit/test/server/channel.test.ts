import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, describe, test } from "node:test";
import { EventSource } from "eventsource";
import { createParser, type ParsedEvent } from "../../src/protocol/index.js";
import { activeHeartbeatTimers } from "../../src/server/heartbeat.js";
import { createChannel, createSession, type Session } from "../../src/server/index.js";
import { Collected, listen, RawClient } from "./support.js";

type Feed = { tick: { n: number }; other: string };

describe("Channel", () => {
  const channel = createChannel<Feed>();
  const joined = new Collected<Session>();
  const serverP = listen((req, res) => {
    const session = createSession(req, res, { heartbeat: 30_000 });
    const url = new URL(req.url ?? "/", "http://x");
    const only = url.searchParams.get("only");
    channel.add(session, only ? { filter: (e) => e.event === only } : {});
    joined.push(session);
  });
  after(async () => (await serverP).close());

  test("broadcast reaches eventsource, fetch and curl -N clients alike, in order", async () => {
    const { url } = await serverP;
    const before = joined.items.length;
    const es = new EventSource(`${url}/`);
    const esGot = new Collected<string>();
    es.addEventListener("tick", (e) => esGot.push(String(e.data)));
    const controller = new AbortController();
    const curl = spawn("curl", ["-sN", `${url}/`], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const curlGot = new Collected<ParsedEvent>();
      const curlParser = createParser({ onEvent: (e) => curlGot.push(e) });
      curl.stdout.on("data", (c: Buffer) => curlParser.feed(c));
      const response = await fetch(`${url}/`, { signal: controller.signal });
      const fetchGot = new Collected<ParsedEvent>();
      const fetchParser = createParser({ onEvent: (e) => fetchGot.push(e) });
      const reader = response.body?.getReader();
      assert.ok(reader);
      void (async () => {
        for (let r = await reader.read(); !r.done; r = await reader.read()) fetchParser.feed(r.value);
      })().catch(() => {});
      await joined.until(before + 3);
      assert.ok(channel.size >= 3);
      for (let n = 0; n < 20; n++) channel.broadcast("tick", { n });
      const expected = Array.from({ length: 20 }, (_, n) => JSON.stringify({ n }));
      assert.deepEqual(await esGot.until(20), expected);
      assert.deepEqual(
        (await fetchGot.until(20)).map((e) => e.data),
        expected,
      );
      assert.deepEqual(
        (await curlGot.until(20)).map((e) => e.data),
        expected,
      );
    } finally {
      es.close();
      controller.abort();
      curl.kill();
    }
  });

  test("a per-session filter keeps other events away from that session", async () => {
    const { port } = await serverP;
    const before = joined.items.length;
    const all = new RawClient(port, "/");
    const some = new RawClient(port, "/?only=other");
    try {
      await joined.until(before + 2);
      channel.broadcast("tick", { n: 1 });
      channel.broadcast("other", "x");
      channel.broadcast({ data: "plain" });
      channel.broadcast("other", "y");
      assert.deepEqual(
        (await all.events.until(4)).map((e) => e.type),
        ["tick", "other", "message", "other"],
      );
      assert.deepEqual(
        (await some.events.until(2)).map((e) => e.data),
        ['"x"', '"y"'],
      );
    } finally {
      all.close();
      some.close();
    }
  });

  test("a session leaves the channel when its client disconnects; remove() keeps it open", async () => {
    const { port } = await serverP;
    const before = joined.items.length;
    const a = new RawClient(port, "/");
    const b = new RawClient(port, "/");
    try {
      const [sa, sb] = (await joined.until(before + 2)).slice(before);
      assert.ok(sa && sb);
      assert.ok(channel.has(sa) && channel.has(sb));
      a.close();
      await sa.closed;
      assert.equal(channel.has(sa), false);
      assert.equal(channel.remove(sb), true);
      assert.equal(channel.has(sb), false);
      assert.equal(sb.isOpen, true);
      channel.broadcast("other", "not for b");
      sb.send("other", "direct");
      assert.equal((await b.events.until(1))[0]?.data, '"direct"');
    } finally {
      a.close();
      b.close();
    }
  });
});

describe("Channel with 1,000 concurrent sessions", () => {
  test(
    "every session receives every event in order; afterwards the channel is empty and no timers remain",
    { timeout: 60_000 },
    async () => {
      const channel = createChannel<{ n: number }>();
      const joined = new Collected<Session>();
      const server = await listen((req, res) => {
        const session = createSession(req, res);
        channel.add(session);
        joined.push(session);
      });
      const clients: RawClient[] = [];
      const timersBefore = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
      try {
        const COUNT = 1_000;
        const EVENTS = 50;
        for (let i = 0; i < COUNT; i++) clients.push(new RawClient(server.port, "/"));
        await joined.until(COUNT);
        assert.equal(channel.size, COUNT);
        for (let n = 0; n < EVENTS; n++) channel.broadcast({ data: String(n), id: String(n) });
        const expected = Array.from({ length: EVENTS }, (_, n) => String(n));
        for (const client of clients) {
          assert.deepEqual(
            (await client.events.until(EVENTS)).map((e) => e.data),
            expected,
          );
        }
        for (const client of clients) client.close();
        await Promise.all(joined.items.map((s) => s.closed));
        assert.equal(channel.size, 0);
        assert.equal(activeHeartbeatTimers(), 0);
        const timers = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
        assert.equal(timers, timersBefore);
      } finally {
        for (const client of clients) client.close();
        await server.close();
      }
    },
  );
});
