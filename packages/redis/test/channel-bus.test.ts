import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import {
  createChannel,
  createWebSession,
  SseServerError,
  TRUNCATED_COMMENT,
  UNKNOWN_ID_COMMENT,
} from "ssekit/server";
import { type RedisChannelBus, RedisLogError, redisChannelBus } from "../src/index.js";
import { RedisServer } from "./support/redis-server.js";
import { StreamReader } from "./support/stream-reader.js";

// Two "instances" in one process: each has its own bus (its own Redis connections) on one key.
let server: RedisServer;
let keys = 0;
const buses: RedisChannelBus[] = [];
function instances(count: number, options: { maxLength?: number } = {}): RedisChannelBus[] {
  const key = `channel-test-${++keys}`;
  const made = Array.from({ length: count }, () =>
    redisChannelBus({ redis: server.url, key, blockMs: 500, ...options }),
  );
  buses.push(...made);
  return made;
}

function join(channel: { add(session: never): unknown }, url = "http://localhost/") {
  const { session, response } = createWebSession(new Request(url), { heartbeat: 0 });
  const added = channel.add(session as never);
  return { session, reader: new StreamReader(response.body), added };
}

before(async () => {
  server = await RedisServer.start();
});
after(async () => {
  await Promise.all(buses.map((bus) => bus.close()));
  await server.stop();
});

test("a broadcast on either instance reaches the members of both once, in one order, with the log's ids", async () => {
  const [a, b] = instances(2);
  const one = createChannel({ bus: a as RedisChannelBus });
  const two = createChannel({ bus: b as RedisChannelBus });
  await Promise.all([one.ready(), two.ready()]);
  try {
    const onA = join(one);
    const onB = join(two);
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) ids.push(await (n % 2 ? one : two).broadcast({ data: String(n) }));
    await Promise.all([onA.reader.until(20), onB.reader.until(20)]);
    assert.deepEqual(onA.reader.data(), onB.reader.data());
    assert.deepEqual(
      onA.reader.data(),
      Array.from({ length: 20 }, (_, n) => String(n)),
    );
    assert.deepEqual(
      onB.reader.events.map((e) => e.lastEventId),
      ids,
    );
    assert.match(ids[0] ?? "", /^\d+-\d+$/);
    assert.equal(one.lastEventId, ids[19]);
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

test("a client resumes on the other instance after its Last-Event-ID: no gap, no duplicate, then live", async () => {
  const [a, b] = instances(2);
  const one = createChannel({ bus: a as RedisChannelBus });
  const two = createChannel({ bus: b as RedisChannelBus });
  await Promise.all([one.ready(), two.ready()]);
  try {
    const first = join(one);
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push(await one.broadcast({ data: String(n) }));
    await first.reader.until(5);
    first.session.close();
    for (let n = 5; n < 8; n++) ids.push(await two.broadcast({ data: String(n) }));
    const again = join(two, `http://localhost/?lastEventId=${ids[4]}`);
    assert.deepEqual(await again.added, { kind: "found" });
    await two.broadcast({ data: "8" });
    await again.reader.until(4);
    assert.deepEqual(again.reader.data(), ["5", "6", "7", "8"]);
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

test("typed events go through the log and arrive JSON-encoded under their event name", async () => {
  type Events = { price: { symbol: string; p: number }; note: string };
  const [a, b] = instances(2);
  const one = createChannel<Events>({ bus: a as RedisChannelBus });
  const two = createChannel<Events>({ bus: b as RedisChannelBus });
  await Promise.all([one.ready(), two.ready()]);
  try {
    const onB = join(two);
    await one.broadcast("price", { symbol: "ACME", p: 1.5 });
    await one.broadcast("note", "hello", { retry: 3000 });
    // Never called: the compiler refuses data that does not match the event map.
    const _wrongData = () => {
      // @ts-expect-error: "price" carries { symbol, p }, not a string
      void one.broadcast("price", "not a price");
    };
    await onB.reader.until(2);
    assert.deepEqual(
      onB.reader.events.slice(0, 2).map((e) => [e.type, JSON.parse(e.data)]),
      [
        ["price", { symbol: "ACME", p: 1.5 }],
        ["note", "hello"],
      ],
    );
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

test("a broadcaster's own id is the event's id, resumes on any instance, and is refused while in use", async () => {
  const [a, b] = instances(2);
  const one = createChannel({ bus: a as RedisChannelBus });
  const two = createChannel({ bus: b as RedisChannelBus });
  await Promise.all([one.ready(), two.ready()]);
  try {
    assert.equal(await one.broadcast({ data: "x", id: "order-1" }), "order-1");
    await one.broadcast({ data: "y", id: "order-2" });
    await assert.rejects(one.broadcast({ data: "again", id: "order-1" }), { code: "DUPLICATE_ID" });
    await assert.rejects(one.broadcast({ data: "z", id: "12-0" }), /form of a log position/);
    const resumed = join(two, "http://localhost/?lastEventId=order-1");
    assert.deepEqual(await resumed.added, { kind: "found" });
    await resumed.reader.until(1);
    assert.deepEqual(
      resumed.reader.events.map((e) => [e.data, e.lastEventId]),
      [["y", "order-2"]],
    );
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

test("an unknown id gets the unknown comment and live events; one trimmed from the log gets everything kept after the truncated comment", async () => {
  const [a, b] = instances(2, { maxLength: 3 });
  const one = createChannel({ bus: a as RedisChannelBus });
  const two = createChannel({ bus: b as RedisChannelBus });
  await Promise.all([one.ready(), two.ready()]);
  try {
    const watcher = join(two);
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) ids.push(await one.broadcast({ data: String(n) }));
    // Once instance two has read all six, "live" means what comes after them.
    await watcher.reader.until(6);
    const unknown = join(two, "http://localhost/?lastEventId=from-another-app");
    assert.deepEqual(await unknown.added, { kind: "unknown" });
    const old = join(two, `http://localhost/?lastEventId=${ids[0]}`);
    assert.deepEqual(await old.added, { kind: "too-old" });
    await one.broadcast({ data: "live" });
    await Promise.all([unknown.reader.until(1), old.reader.until(4)]);
    assert.deepEqual(unknown.reader.comments.slice(1), [UNKNOWN_ID_COMMENT]);
    assert.deepEqual(unknown.reader.data(), ["live"]);
    assert.deepEqual(old.reader.comments.slice(1), [TRUNCATED_COMMENT]);
    assert.deepEqual(old.reader.data(), ["3", "4", "5", "live"]);
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

test("channel.poll on one instance answers from the shared log, and waits for a broadcast made on another", async () => {
  const [a, b] = instances(2);
  const one = createChannel({ bus: a as RedisChannelBus });
  const two = createChannel({ bus: b as RedisChannelBus });
  await Promise.all([one.ready(), two.ready()]);
  try {
    const first = await one.broadcast({ data: "a" });
    await one.broadcast({ data: "b", event: "note" });
    const response = await two.poll(new Request(`http://localhost/?poll=1&lastEventID=${first}&timeout=0`));
    assert.equal(response.status, 200);
    const body = (await response.json()) as { events: { type: string; data: string }[]; lastEventId: string };
    assert.deepEqual(
      body.events.map((e) => [e.type, e.data]),
      [["note", "b"]],
    );
    const waiting = two.poll(
      new Request(`http://localhost/?poll=1&lastEventID=${body.lastEventId}&timeout=20000`),
    );
    const third = await one.broadcast({ data: "c" });
    const next = (await (await waiting).json()) as { events: { data: string }[]; lastEventId: string };
    assert.deepEqual(
      next.events.map((e) => e.data),
      ["c"],
    );
    assert.equal(next.lastEventId, third);
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

test("Redis down: broadcast rejects, sessions stay open; back up: both instances follow on with nothing lost", async () => {
  const durable = await RedisServer.start({ appendonly: true });
  const key = "outage";
  const options = { redis: durable.url, key, blockMs: 500, backoff: { initialMs: 20, maxMs: 200 } };
  const a = redisChannelBus(options);
  const b = redisChannelBus(options);
  const one = createChannel({ bus: a });
  const two = createChannel({ bus: b });
  try {
    await Promise.all([one.ready(), two.ready()]);
    const onA = join(one);
    const onB = join(two);
    await one.broadcast({ data: "before" });
    await Promise.all([onA.reader.until(1), onB.reader.until(1)]);
    await durable.kill();
    await assert.rejects(two.broadcast({ data: "during" }), (error: unknown) => {
      assert.ok(error instanceof RedisLogError, String(error));
      return true;
    });
    assert.ok(onA.session.isOpen && onB.session.isOpen, "sessions stay open while Redis is down");
    await durable.restart();
    let sent = false;
    while (!sent) {
      sent = await two.broadcast({ data: "after" }).then(
        () => true,
        () => new Promise<boolean>((resolve) => setImmediate(() => resolve(false))),
      );
    }
    await Promise.all([onA.reader.until(2), onB.reader.until(2)]);
    assert.deepEqual(onA.reader.data(), ["before", "after"]);
    assert.deepEqual(onB.reader.data(), ["before", "after"]);
  } finally {
    await Promise.all([one.close(), two.close()]);
    await Promise.all([a.close(), b.close()]);
    await durable.stop();
  }
});

test("the broadcasting instance writes its event when Redis answers, without waiting for its follower; the other instance gets it through its own", async () => {
  const key = `channel-test-${++keys}`;
  let resumed = false;
  // After the kill below, this instance's follower waits minutes before it reconnects, far longer
  // than the test runs (closing the bus ends the wait): the event can only come from the answer.
  const a = redisChannelBus({
    redis: server.url,
    key,
    backoff: { initialMs: 600_000, maxMs: 600_000 },
    onResume: () => {
      resumed = true;
    },
  });
  buses.push(a);
  const b = redisChannelBus({ redis: server.url, key, blockMs: 500 });
  buses.push(b);
  const one = createChannel({ bus: a });
  await one.ready();
  const admin = new Redis(server.url);
  const two = createChannel({ bus: b });
  try {
    // The only follower connection so far is this instance's (the other one's connects later).
    const list = String(await admin.call("CLIENT", "LIST"));
    const tail = list.split("\n").find((line) => line.includes(` name=ssekit-tail:${key} `));
    await admin.call("CLIENT", "KILL", "ID", tail?.match(/^id=(\d+) /)?.[1] ?? "none");
    await two.ready();
    const onA = join(one);
    const onB = join(two);
    const id = await one.broadcast({ data: "mine" });
    await onA.reader.until(1);
    assert.equal(resumed, false, "written before this instance's follower was back");
    await onB.reader.until(1);
    assert.deepEqual(onA.reader.data(), ["mine"]);
    assert.deepEqual(onB.reader.data(), ["mine"]);
    assert.deepEqual([onA.reader.events[0]?.lastEventId, onB.reader.events[0]?.lastEventId], [id, id]);
  } finally {
    admin.disconnect();
    await Promise.all([one.close(), two.close()]);
  }
});

test("misuse is refused with a clear error: history with a bus, a closed channel's broadcast", async () => {
  const [a] = instances(1);
  assert.throws(
    () => createChannel({ bus: a as RedisChannelBus, history: 10 } as never),
    /history and bus cannot be combined/,
  );
  const channel = createChannel({ bus: a as RedisChannelBus });
  await channel.close();
  await assert.rejects(channel.broadcast({ data: "x" }), (error: unknown) => {
    assert.ok(error instanceof SseServerError);
    assert.equal(error.code, "CHANNEL_CLOSED");
    return true;
  });
});

test("per-session filters apply to replay and live events; a filter that throws costs only its own session", async () => {
  const [a, b] = instances(2);
  const one = createChannel({ bus: a as RedisChannelBus });
  const two = createChannel({ bus: b as RedisChannelBus });
  await Promise.all([one.ready(), two.ready()]);
  try {
    const everything = join(two);
    const throwing = createWebSession(new Request("http://localhost/"), { heartbeat: 0 });
    void two.add(throwing.session, {
      filter: () => {
        throw new Error("a bug in a filter");
      },
    });
    const first = await one.broadcast({ data: "0", event: "note" });
    await one.broadcast({ data: "1", event: "other" });
    await one.broadcast({ data: "2", event: "note" });
    const notesOnly = (() => {
      const { session, response } = createWebSession(new Request(`http://localhost/?lastEventId=${first}`), {
        heartbeat: 0,
      });
      void two.add(session, { filter: (event) => event.event === "note" });
      return new StreamReader(response.body);
    })();
    await notesOnly.until(1);
    await one.broadcast({ data: "3", event: "other" });
    await one.broadcast({ data: "4", event: "note" });
    await Promise.all([notesOnly.until(2), everything.reader.until(5)]);
    assert.deepEqual(notesOnly.data(), ["2", "4"]);
    assert.deepEqual(everything.reader.data(), ["0", "1", "2", "3", "4"]);
    assert.ok(throwing.session.isOpen);
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

test("resuming on an instance that reads the log behind the others: the replay's events are not written twice", async () => {
  const key = `channel-test-${++keys}`;
  const a = redisChannelBus({ redis: server.url, key });
  // One entry per read: this instance's follower falls far behind a burst of appends.
  const b = redisChannelBus({ redis: server.url, key, batch: 1 });
  buses.push(a, b);
  const one = createChannel({ bus: a });
  const two = createChannel({ bus: b });
  await Promise.all([one.ready(), two.ready()]);
  try {
    const ids = await Promise.all(Array.from({ length: 300 }, (_, n) => one.broadcast({ data: String(n) })));
    const resumed = join(two, `http://localhost/?lastEventId=${ids[99]}`);
    assert.deepEqual(await resumed.added, { kind: "found" });
    await one.broadcast({ data: "live" });
    await resumed.reader.until(201);
    assert.deepEqual(resumed.reader.data(), [
      ...Array.from({ length: 200 }, (_, n) => String(n + 100)),
      "live",
    ]);
    assert.equal(two.size, 1);
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});
