// What a server with its own index of sessions and its own store uses (the Mercure hub is one):
// the one Last-Event-ID reader, one frame written to many sessions, replay paced by the client,
// abort, a close listener shared by every session, and HEAD. Real sockets on 127.0.0.1.
import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, test } from "node:test";
import { encodeBytes, encodeHeaderId } from "../../src/protocol/index.js";
import {
  type CloseReason,
  createSession,
  Framed,
  readLastEventId,
  replay,
  type Session,
} from "../../src/server/index.js";
import { Collected, listen, RawClient } from "./support.js";

describe("readLastEventId", () => {
  test("reads the header, else lastEventId, last_event_id or lastEventID, and says where it found it", () => {
    assert.deepEqual(readLastEventId("h", "/s?lastEventId=q"), { id: "h", from: "header" });
    assert.deepEqual(readLastEventId(undefined, "/s?topic=a&lastEventId=1"), {
      id: "1",
      from: "lastEventId",
    });
    assert.deepEqual(readLastEventId(null, "/s?lastEventID=2"), { id: "2", from: "lastEventID" });
    assert.deepEqual(readLastEventId(undefined, "http://h/s?last_event_id=3"), {
      id: "3",
      from: "last_event_id",
    });
    // When a client sends several spellings, ssekit's wins, then Mercure 1.0's, then 0.x's.
    assert.deepEqual(readLastEventId(undefined, "/s?lastEventID=0x&last_event_id=1x"), {
      id: "1x",
      from: "last_event_id",
    });
    assert.equal(readLastEventId(undefined, "/s?topic=lastEvent"), undefined);
    assert.equal(readLastEventId(undefined, undefined), undefined);
  });

  test("an empty value counts as none; prefer query reads the query first; header ids are UTF-8 bytes", () => {
    assert.deepEqual(readLastEventId("", "/s?lastEventID=&last_event_id=4"), {
      id: "4",
      from: "last_event_id",
    });
    assert.equal(readLastEventId("", "/s"), undefined);
    assert.deepEqual(readLastEventId("h", "/s?lastEventID=q", { prefer: "query" }), {
      id: "q",
      from: "lastEventID",
    });
    assert.deepEqual(readLastEventId("h", "/s", { prefer: "query" }), { id: "h", from: "header" });
    assert.deepEqual(readLastEventId(encodeHeaderId("\u2603"), "/"), { id: "\u2603", from: "header" });
  });
});

describe("a server's own index of sessions", () => {
  test("one Framed goes to many sessions, and a shared onClose listener learns each reason and session", async () => {
    const sessions = new Collected<Session>();
    const closes = new Collected<[CloseReason, Session]>();
    const listener = (reason: CloseReason, session: Session) => closes.push([reason, session]);
    const server = await listen((req, res) => {
      const session = createSession(req, res);
      session.onClose(listener);
      sessions.push(session);
    });
    const clients = [new RawClient(server.port, "/"), new RawClient(server.port, "/")];
    try {
      const [a, b] = await sessions.until(2);
      assert.ok(a && b);
      const frame = new Framed(encodeBytes({ id: "1", data: "to both" }));
      assert.equal(a.writeFrame(frame), true);
      assert.equal(b.writeFrame(frame), true);
      for (const client of clients) assert.equal((await client.events.until(1))[0]?.data, "to both");
      a.abort();
      clients[1]?.close();
      const closed = await closes.until(2);
      assert.deepEqual(closed.map(([reason, session]) => [reason, session === a ? "a" : "b"]).sort(), [
        ["backpressure", "a"],
        ["client", "b"],
      ]);
      assert.equal(a.writeFrame(frame), false);
    } finally {
      for (const client of clients) client.close();
      await server.close();
    }
  });

  test("onClose also takes an object with handleClose, told with the reason and the session", async () => {
    const sessions = new Collected<Session>();
    const told = new Collected<[CloseReason, Session, unknown]>();
    const owner = {
      handleClose(this: unknown, reason: CloseReason, session: Session) {
        told.push([reason, session, this]);
      },
    };
    const server = await listen((req, res) => {
      const session = createSession(req, res);
      session.onClose(owner);
      sessions.push(session);
    });
    const client = new RawClient(server.port, "/");
    try {
      const [session] = await sessions.until(1);
      session?.close();
      const [[reason, which, self] = []] = await told.until(1);
      assert.equal(reason, "server");
      assert.equal(which, session);
      assert.equal(self, owner);
    } finally {
      client.close();
      await server.close();
    }
  });

  test("replay writes more than the send-buffer bound to a client that reads, waiting for it, then stops at its close", async () => {
    const sessions = new Collected<Session>();
    const server = await listen((req, res) => {
      sessions.push(createSession(req, res, { maxBufferedBytes: 65_536 }));
    });
    const client = new RawClient(server.port, "/");
    const big = "y".repeat(10_000);
    try {
      const [session] = await sessions.until(1);
      assert.ok(session);
      // 4 MB, sixty times the bound: written at once, they would cut the client off.
      async function* frames() {
        for (let i = 0; i < 400; i++) yield encodeBytes({ id: String(i), data: `${i}:${big}` });
      }
      const written = await replay(session, frames(), { highWaterBytes: 32_768 });
      assert.equal(written, 400);
      assert.ok(session.isOpen, "the session was not cut off");
      const events = await client.events.until(400);
      assert.deepEqual(
        events.map((e) => e.lastEventId),
        Array.from({ length: 400 }, (_, i) => String(i)),
      );
      // A closed session stops the source, whose finally runs.
      let stopped = false;
      async function* endless() {
        try {
          for (;;) yield encodeBytes({ data: big });
        } finally {
          stopped = true;
        }
      }
      client.close();
      await session.closed;
      assert.equal(await replay(session, endless()), 0);
      assert.equal(stopped, true);
    } finally {
      client.close();
      await server.close();
    }
  });

  test("an event larger than maxBufferedBytes still reaches a client that has taken everything else", async () => {
    const sessions = new Collected<Session>();
    const server = await listen((req, res) => {
      sessions.push(createSession(req, res, { maxBufferedBytes: 1024 }));
    });
    const client = new RawClient(server.port, "/");
    try {
      const [session] = await sessions.until(1);
      assert.ok(session);
      await client.comments.until(1);
      assert.equal(session.send({ data: "z".repeat(4096) }), true);
      assert.equal((await client.events.until(1))[0]?.data.length, 4096);
      assert.ok(session.isOpen);
    } finally {
      client.close();
      await server.close();
    }
  });

  test("HEAD gets the event-stream headers and an ended response; the session comes back closed", async () => {
    const sessions = new Collected<Session>();
    const server = await listen((req, res) => {
      sessions.push(createSession(req, res, { headers: { "x-extra": "1" } }));
    });
    try {
      const head = await new Promise<{ status?: number; headers: Record<string, unknown> }>(
        (resolve, reject) => {
          const req = request(`${server.url}/`, { method: "HEAD" }, (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode, headers: res.headers }));
          });
          req.on("error", reject);
          req.end();
        },
      );
      assert.equal(head.status, 200);
      assert.equal(head.headers["content-type"], "text/event-stream; charset=utf-8");
      assert.equal(head.headers["x-extra"], "1");
      const [session] = await sessions.until(1);
      assert.equal(session?.isOpen, false);
      assert.equal(await session?.closed, "server");
    } finally {
      await server.close();
    }
  });
});
