import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { EventSource } from "eventsource";
import { encodeHeaderId } from "../../src/protocol/index.js";
import {
  createChannel,
  createSession,
  createWebSession,
  type Session,
  TRUNCATED_COMMENT,
  UNKNOWN_ID_COMMENT,
} from "../../src/server/index.js";
import { Collected, listen, RawClient } from "./support.js";

describe("History replay", () => {
  let channel = createChannel({ history: 5 });
  const fresh = () => {
    channel = createChannel({ history: 5 });
    // Ids 1..8 are assigned by the channel; the ring keeps 4..8.
    for (let n = 1; n <= 8; n++) channel.broadcast({ data: `e${n}` });
  };
  fresh();
  const joined = new Collected<Session>();
  const serverP = listen((req, res) => {
    const session = createSession(req, res, { retry: 10 });
    channel.add(session);
    joined.push(session);
  });
  after(async () => (await serverP).close());

  test("assigns ids and keeps the newest events only", () => {
    assert.equal(channel.lastEventId, "8");
  });

  for (const last of ["4", "5", "6", "7", "8"]) {
    test(`Last-Event-ID ${last}: exactly the kept events after it, then live ones`, async () => {
      const { port } = await serverP;
      fresh();
      const before = joined.items.length;
      const client = new RawClient(port, "/", { "Last-Event-ID": last });
      try {
        await joined.until(before + 1);
        const live = channel.broadcast({ data: "live", id: `live-${last}` });
        const expected = [
          ...Array.from({ length: 8 - Number(last) }, (_, i) => String(Number(last) + 1 + i)),
          live,
        ];
        const events = await client.events.until(expected.length);
        assert.deepEqual(
          events.map((e) => e.lastEventId),
          expected,
        );
        assert.deepEqual(client.comments.items, []);
      } finally {
        client.close();
      }
    });
  }

  test("an id older than the ring: everything kept, announced by a history-truncated comment", async () => {
    const replay = createChannel({ history: 3 });
    for (let n = 1; n <= 6; n++) replay.broadcast({ data: `e${n}` });
    const { session, response } = createWebSession(new Request("http://t/?lastEventId=2"));
    assert.deepEqual(replay.add(session)?.kind, "too-old");
    replay.close();
    assert.equal(
      await response.text(),
      `:\n\n: ${TRUNCATED_COMMENT}\n\nid: 4\ndata: e4\n\nid: 5\ndata: e5\n\nid: 6\ndata: e6\n\n`,
    );
  });

  test("an unknown id (foreign or from the future): nothing replayed, an unknown-last-event-id comment", async () => {
    for (const id of ["nope", "99"]) {
      const replay = createChannel({ history: 3 });
      for (let n = 1; n <= 6; n++) replay.broadcast({ data: `e${n}` });
      const { session, response } = createWebSession(
        new Request("http://t/", { headers: { "last-event-id": id } }),
      );
      assert.deepEqual(replay.add(session)?.kind, "unknown");
      replay.broadcast({ data: "live" });
      replay.close();
      assert.equal(await response.text(), `:\n\n: ${UNKNOWN_ID_COMMENT}\n\nid: 7\ndata: live\n\n`);
    }
  });

  test("ids given by the publisher are kept and resumed from", async () => {
    const replay = createChannel({ history: 10 });
    replay.broadcast({ data: "a", id: "urn:a" });
    replay.broadcast({ data: "b", id: "urn:b" });
    replay.broadcast({ data: "c" });
    const { session, response } = createWebSession(new Request("http://t/?lastEventID=urn:a"));
    replay.add(session);
    replay.close();
    assert.equal(await response.text(), ":\n\nid: urn:b\ndata: b\n\nid: 3\ndata: c\n\n");
  });

  test("a non-ASCII id sent by a client as UTF-8 bytes (as browsers do) is resumed from", async () => {
    const ids = createChannel({ history: 10 });
    ids.broadcast({ data: "a", id: "\u2603\u20ac" });
    ids.broadcast({ data: "b", id: "caf\u00e9" });
    const seen = new Collected<string | undefined>();
    const server = await listen((req, res) => {
      const session = createSession(req, res);
      seen.push(session.lastEventId);
      ids.add(session);
      ids.close();
    });
    try {
      // The bytes Chromium's EventSource sends for `id: ☃€` (its differential test checks ours send them too).
      const response = await fetch(server.url, {
        headers: { "last-event-id": encodeHeaderId("\u2603\u20ac") },
      });
      assert.equal(await response.text(), ":\n\nid: caf\u00e9\ndata: b\n\n");
      assert.deepEqual(seen.items, ["\u2603\u20ac"]);
      const poll = await ids.poll(
        new Request("http://t/?poll=1&timeout=0", {
          headers: { "last-event-id": encodeHeaderId("\u2603\u20ac") },
        }),
      );
      assert.deepEqual((await poll.json()).events, [{ type: "message", data: "b", id: "caf\u00e9" }]);
    } finally {
      await server.close();
    }
  });

  test("startsAfter: the channel's newest id (earliest while empty) in the Last-Event-ID response header", () => {
    assert.equal(createChannel().startsAfter, undefined, "no history, nothing to poll from");
    const positioned = createChannel({ history: 2 });
    assert.equal(positioned.startsAfter, "earliest");
    positioned.broadcast({ data: "a", id: "\u2603" });
    assert.equal(positioned.startsAfter, "\u2603");
    const { response } = createWebSession(new Request("http://t/"), { startsAfter: positioned.startsAfter });
    assert.equal(response.headers.get("last-event-id"), encodeHeaderId("\u2603"));
    assert.throws(
      () => createWebSession(new Request("http://t/"), { startsAfter: "a\nb" }),
      (error: Error & { code?: string }) =>
        error.code === "INVALID_OPTION" && /startsAfter/.test(error.message),
    );
  });

  test(
    "no gap and no duplicate while broadcasts race reconnections of the eventsource client",
    { timeout: 30_000 },
    async () => {
      const racing = createChannel({ history: 1000 });
      const sessions = new Set<Session>();
      const connected = new Collected<Session>();
      const server = await listen((req, res) => {
        const session = createSession(req, res, { retry: 1 });
        racing.add(session);
        sessions.add(session);
        connected.push(session);
        void session.closed.then(() => sessions.delete(session));
      });
      const TOTAL = 400;
      let published = 0;
      let stop = false;
      let cuts = 0;
      const es = new EventSource(server.url);
      const got = new Collected<string>();
      es.onmessage = (e) => got.push(String(e.data));
      await connected.until(1);
      const publisher = (async () => {
        while (!stop && published < TOTAL) {
          racing.broadcast({ data: String(++published) });
          // Cut the stream now and then: the client reconnects with Last-Event-ID while we keep publishing.
          if (published % 50 === 0 && sessions.size > 0) {
            cuts++;
            for (const s of sessions) s.close();
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      try {
        await publisher;
        const all = await got.until(TOTAL);
        // It connected before the first event, so it must have every one of them, once, in order.
        assert.deepEqual(
          all.map(Number),
          Array.from({ length: TOTAL }, (_, i) => i + 1),
        );
        assert.ok(
          cuts >= 2 && connected.items.length >= cuts,
          `${cuts} cuts, ${connected.items.length} connections`,
        );
      } finally {
        stop = true;
        es.close();
        await server.close();
      }
    },
  );
});
