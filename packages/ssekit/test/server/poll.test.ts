import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { createChannel } from "../../src/server/index.js";
import { listen } from "./support.js";

interface Batch {
  events: { type: string; data: string; id: string }[];
  lastEventId: string;
  reset?: boolean;
}

describe("channel.poll (docs/polling.md)", () => {
  const channel = createChannel({ history: 3 });
  // A node:http adapter in front of the Web handler, read with global fetch.
  const serverP = listen(async (req, res) => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const response = await channel.poll(new Request(`http://127.0.0.1${req.url}`, { headers }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(await response.text());
  });
  after(async () => (await serverP).close());
  const poll = async (query: string, headers: Record<string, string> = {}) => {
    const { url } = await serverP;
    const response = await fetch(`${url}/?poll=1&${query}`, { headers });
    assert.equal(response.headers.get("cache-control"), "no-store");
    return (await response.json()) as Batch;
  };

  test("first poll answers at once with no events and the current last id", async () => {
    channel.broadcast({ data: "a" });
    assert.deepEqual(await poll("timeout=0"), { events: [], lastEventId: "1" });
  });

  test("returns the events after lastEventID, the query winning over the header", async () => {
    channel.broadcast({ event: "price", data: "b" });
    channel.broadcast({ data: "c" });
    const batch = await poll("lastEventID=1&timeout=0", { "last-event-id": "2" });
    assert.deepEqual(batch.events, [
      { type: "price", data: "b", id: "2" },
      { type: "message", data: "c", id: "3" },
    ]);
    assert.equal(batch.lastEventId, "3");
  });

  test("holds the request until the next broadcast (long poll)", async () => {
    const pending = poll("lastEventID=3&timeout=20000");
    // The request is parked once the server has it; a broadcast then releases it.
    const release = setInterval(() => channel.broadcast({ data: "d" }), 50);
    try {
      const batch = await pending;
      assert.equal(batch.events[0]?.data, "d");
      assert.equal(batch.events[0]?.id, "4");
    } finally {
      clearInterval(release);
    }
  });

  test("an id too old for the history: what is kept, with reset: true", async () => {
    const batch = await poll("lastEventID=1&timeout=0");
    assert.equal(batch.reset, true);
    assert.ok(batch.events.length > 0 && batch.events.length <= 3);
  });

  test("a bad timeout is a 400 with a one-line reason", async () => {
    const { url } = await serverP;
    const response = await fetch(`${url}/?poll=1&lastEventID=1&timeout=soon`);
    assert.equal(response.status, 400);
    assert.match(await response.text(), /timeout must be a non-negative integer/);
  });
});
