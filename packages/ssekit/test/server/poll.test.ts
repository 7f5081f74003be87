import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import {
  createChannel,
  POLL_HEADERS,
  type PolledEvent,
  type PollSource,
  pollBody,
  pollResponse,
  readLastEventId,
  SseServerError,
} from "../../src/server/index.js";
import { countUtf8 } from "../../src/server/poll.js";
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
    assert.match(
      await response.text(),
      /"timeout" must be a non-negative integer of milliseconds \(got "soon"\)/,
    );
  });
});

describe("channel.poll options: filter, maxBytes, maxReads", () => {
  const body = async (response: Response) => {
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
    return (await response.json()) as Batch;
  };
  const request = (query: string) => new Request(`http://localhost/?poll=1&${query}`);

  test("the answer is byte-exact: events serialized in order, then lastEventId and retry", async () => {
    const channel = createChannel({ history: 5 });
    channel.broadcast({ data: 'say "hi"\nthere', event: "note" });
    const response = await channel.poll(request("lastEventID=earliest&timeout=0"), { retry: 1500 });
    assert.equal(
      await response.text(),
      '{"events":[{"type":"note","data":"say \\"hi\\"\\nthere","id":"1"}],"lastEventId":"1","retry":1500}',
    );
  });

  test("a first poll on an empty history starts from earliest, so the first event is not missed", async () => {
    const channel = createChannel({ history: 5 });
    const first = await body(await channel.poll(request("timeout=0")));
    assert.deepEqual(first, { events: [], lastEventId: "earliest" });
    channel.broadcast({ data: "first" });
    const next = await body(await channel.poll(request(`lastEventID=${first.lastEventId}&timeout=0`)));
    assert.deepEqual(next.events, [{ type: "message", data: "first", id: "1" }]);
  });

  test("filter: events it refuses are skipped, and a held poll waits on past them", async () => {
    const channel = createChannel({ history: 10 });
    const filter = (event: { event: string | undefined }) => event.event === "mine";
    channel.broadcast({ data: "a", event: "other" });
    channel.broadcast({ data: "b", event: "mine" });
    channel.broadcast({ data: "c", event: "other" });
    const now = await body(await channel.poll(request("lastEventID=earliest&timeout=0"), { filter }));
    assert.deepEqual(now.events, [{ type: "mine", data: "b", id: "2" }]);
    assert.equal(now.lastEventId, "2");
    // Held: an event the filter refuses does not answer it, the next one it accepts does.
    const held = channel.poll(request("lastEventID=2&timeout=20000"), { filter });
    channel.broadcast({ data: "d", event: "other" });
    await new Promise((resolve) => setImmediate(resolve));
    channel.broadcast({ data: "e", event: "mine" });
    const later = await body(await held);
    assert.deepEqual(later.events, [{ type: "mine", data: "e", id: "5" }]);
  });

  test("maxReads: a scan that finds nothing in its reads answers at once with where it reached", async () => {
    const channel = createChannel({ history: 20 });
    for (let i = 0; i < 9; i++) channel.broadcast({ data: `skip ${i}`, event: "other" });
    channel.broadcast({ data: "found", event: "mine" });
    const options = {
      filter: (e: { event: string | undefined }) => e.event === "mine",
      maxEvents: 2,
      maxReads: 2,
    };
    const positions: string[] = [];
    let last = "earliest";
    let found: Batch["events"] = [];
    for (let polls = 0; polls < 10 && found.length === 0; polls++) {
      // timeout 20000: each empty answer comes at once, not after the timeout.
      const batch = await body(await channel.poll(request(`lastEventID=${last}&timeout=20000`), options));
      found = batch.events;
      last = batch.lastEventId;
      positions.push(last);
    }
    assert.deepEqual(positions, ["4", "8", "10"]);
    assert.deepEqual(found, [{ type: "mine", data: "found", id: "10" }]);
  });

  test("maxBytes: an answer stops at the bound in UTF-8 bytes (at least one event) and the next goes on", async () => {
    const channel = createChannel({ history: 10 });
    const big = "é".repeat(100); // 200 bytes of UTF-8, 100 characters
    for (let i = 0; i < 4; i++) channel.broadcast({ data: `${i}${big}` });
    const seen: string[] = [];
    let last = "earliest";
    for (let polls = 0; polls < 10 && seen.length < 4; polls++) {
      const response = await channel.poll(request(`lastEventID=${last}&timeout=0`), { maxBytes: 500 });
      const text = await response.text();
      const batch = JSON.parse(text) as Batch;
      const eventsBytes = Buffer.byteLength(JSON.stringify(batch.events)) - 2 - (batch.events.length - 1);
      assert.ok(batch.events.length === 1 || eventsBytes <= 500, `${eventsBytes} bytes of events`);
      seen.push(...batch.events.map((e) => e.data.slice(0, 1)));
      last = batch.lastEventId;
    }
    // Two events (about 2 x 230 bytes) fit in 500, a third does not.
    assert.deepEqual(seen, ["0", "1", "2", "3"]);
    const one = await body(await channel.poll(request("lastEventID=earliest&timeout=0"), { maxBytes: 1 }));
    assert.equal(one.events.length, 1);
  });

  test("a held poll is answered when the channel closes", async () => {
    const channel = createChannel({ history: 3 });
    channel.broadcast({ data: "a" });
    const held = channel.poll(request("lastEventID=1&timeout=20000"));
    channel.close();
    assert.deepEqual(await body(await held), { events: [], lastEventId: "1" });
  });

  test("bad options are refused naming the option", async () => {
    const channel = createChannel({ history: 3 });
    await assert.rejects(channel.poll(request("timeout=0"), { maxEvents: 0 }), {
      name: "SseServerError",
      code: "INVALID_OPTION",
      message: /maxEvents must be at least 1/,
    });
  });
});

describe("pollBody and pollResponse over a source of your own", () => {
  interface Row extends PolledEvent {
    readonly owner: string;
  }
  /** An async store of rows, read page by page; `reads` counts the reads. */
  function store(rows: Row[]) {
    let wake: (() => void) | undefined;
    const source: PollSource<Row> & { reads: number; append(row: Row): void } = {
      reads: 0,
      isClosed: false,
      current: async () => rows.at(-1)?.id ?? "earliest",
      async read(last, max) {
        source.reads++;
        await Promise.resolve();
        const at = last === "earliest" ? 0 : rows.findIndex((r) => r.id === last) + 1;
        if (at === 0 && last !== "earliest") return { events: rows.slice(0, max), reset: true };
        return { events: rows.slice(at, at + max), reset: false };
      },
      onNextEvent(next) {
        wake = next;
        return () => {
          wake = undefined;
        };
      },
      append(row) {
        rows.push(row);
        const woken = wake;
        wake = undefined;
        woken?.();
      },
    };
    return source;
  }
  const row = (id: string, owner: string): Row => ({ id, owner, event: undefined, data: `${owner} ${id}` });

  test("pollBody answers on node:http with POLL_HEADERS; a bad timeout throws INVALID_REQUEST", async () => {
    const source = store([row("a", "ann"), row("b", "bob"), row("c", "ann")]);
    const server = await listen(async (req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const lastEventId = readLastEventId(req.headers["last-event-id"] as string | undefined, req.url, {
        prefer: "query",
      })?.id;
      try {
        const body = await pollBody(
          source,
          { lastEventId, timeout: url.searchParams.get("timeout") },
          { filter: (r) => r.owner === "ann" },
        );
        res.writeHead(200, POLL_HEADERS).end(body);
      } catch (error) {
        assert.ok(error instanceof SseServerError && error.code === "INVALID_REQUEST");
        res.writeHead(400).end(error.message);
      }
    });
    try {
      const first = (await (await fetch(`${server.url}/?timeout=0`)).json()) as Batch;
      assert.deepEqual(first, { events: [], lastEventId: "c" });
      const all = await fetch(`${server.url}/?timeout=0`, { headers: { "last-event-id": "earliest" } });
      assert.equal(all.headers.get("cache-control"), "no-store");
      assert.deepEqual(
        ((await all.json()) as Batch).events.map((e) => e.id),
        ["a", "c"],
      );
      const bad = await fetch(`${server.url}/?timeout=1e3&lastEventID=a`);
      assert.equal(bad.status, 400);
      assert.equal(await bad.text(), '"timeout" must be a non-negative integer of milliseconds (got "1e3")');
    } finally {
      await server.close();
    }
  });

  test("an unknown id answers with what is kept and reset: true", async () => {
    const source = store([row("a", "ann")]);
    const response = await pollResponse(source, new Request("http://localhost/?lastEventID=gone&timeout=0"));
    assert.deepEqual(await response.json(), {
      events: [{ type: "message", data: "ann a", id: "a" }],
      lastEventId: "a",
      reset: true,
    });
  });

  test("a long scan gives the event loop back through turn, between reads and every 5 ms", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => row(String(i), "bob"));
    const source = store(rows);
    let turns = 0;
    const turn = () => {
      turns++;
      return new Promise<void>((resolve) => setImmediate(resolve));
    };
    const slow = (r: Row) => {
      const until = performance.now() + 2; // a costly filter: 2 ms per row
      while (performance.now() < until);
      return r.owner === "ann";
    };
    const body = await pollBody(
      source,
      { lastEventId: "earliest", timeout: "0" },
      { filter: slow, maxEvents: 10, turn },
    );
    assert.equal(body, '{"events":[],"lastEventId":"49"}');
    assert.equal(source.reads, 6); // five pages of 10, and the empty one that ends the history
    // 5 turns between reads; within each page of 10 rows (20 ms), a turn at the 4th and the 8th.
    assert.ok(turns >= 5 + 2 * 5, `${turns} turns`);
  });

  test("a held poll wakes at an event of the source, and stops when the client goes away", async () => {
    const source = store([row("a", "ann")]);
    const held = pollBody(source, { lastEventId: "a", timeout: "20000" });
    await new Promise((resolve) => setImmediate(resolve));
    source.append(row("b", "ann"));
    assert.equal(await held, '{"events":[{"type":"message","data":"ann b","id":"b"}],"lastEventId":"b"}');
    const gone = new AbortController();
    const waiting = pollBody(source, { lastEventId: "b", timeout: "20000", signal: gone.signal });
    gone.abort();
    assert.equal(await waiting, '{"events":[],"lastEventId":"b"}');
  });
});

test("countUtf8 (the byte count where Buffer is missing) agrees with Buffer.byteLength on any JSON text", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (text) => {
      const json = JSON.stringify({ data: text });
      assert.equal(countUtf8(json), Buffer.byteLength(json));
    }),
    { numRuns: 2000 },
  );
  assert.equal(countUtf8('"\u00e9\u20ac\u{1f600}"'), 2 + 2 + 3 + 4); // quotes, é, €, an emoji
});
