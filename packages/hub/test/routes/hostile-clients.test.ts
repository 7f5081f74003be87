// Hostile anonymous clients against a real hub over real sockets: long replays and poll scans give
// the event loop back while they run, subscription events never evict published updates, replays
// larger than the send buffer reach a client that reads, poll answers are bounded in bytes,
// pattern selectors are bounded per subscription and per hub, malformed cookies are 401, and the
// id of a private update is not told to anyone who asks.
import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:http2";
import { after, before, describe, test } from "node:test";
import { createParser } from "eventsource-parser";
import { canReceive } from "../../src/domain/auth.js";
import type { Selector } from "../../src/domain/topics.js";
import type { StoredUpdate } from "../../src/transports/transport.js";
import {
  Collector,
  publish,
  publishOk,
  readStream,
  type Started,
  startHub,
  token,
} from "../support/hub-support.js";
import { selfSignedCertificate } from "../support/tls-support.js";

const enc = encodeURIComponent;

/** Counts turns of the event loop (setImmediate callbacks) until stopped. */
function countTurns(): { stop(): number } {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop: () => {
      running = false;
      return turns;
    },
  };
}

/** `count` public updates on topics no test subscribes to, published in process. */
async function noise(started: Started, count: number, data = "n"): Promise<void> {
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) batch.push(started.hub.publish({ topics: [`/noise/${i}`], data }));
  await Promise.all(batch);
}

// Twelve templates without a literal prefix or suffix: the costly kind, matching no noise topic.
const costly = Array.from({ length: 12 }, (_, i) => `topic=${enc(`{a}{b}{c}{d}/only-${i}`)}`).join("&");

describe("long work gives the event loop back", { timeout: 60_000 }, () => {
  let started: Started;
  before(async () => {
    started = await startHub({ anonymous: true, subscriptions: false, historyMaxEvents: 50_000 });
    await noise(started, 10_000);
    await started.hub.publish({ topics: ["/target"], data: "found" });
  });
  after(() => started.hub.close());

  test("a replay of 10,000 updates against costly selectors runs in many turns of the event loop", async () => {
    // Counted from the stream's headers on: the replay starts right after they are written.
    let turns: { stop(): number } | undefined;
    const { response, text } = await readStream(
      `${started.endpoint}?topic=/target&${costly}&lastEventID=earliest`,
      {},
      (t) => t.includes("data: found"),
      () => {
        turns = countTurns();
      },
    );
    assert.equal(response.status, 200);
    const counted = turns?.stop() ?? 0;
    assert.match(text, /data: found/);
    // One turn at least per page of 1,000; a replay that held the loop would show none.
    assert.ok(counted >= 5, `the replay ran in ${counted} turns of the event loop`);
  });

  test("a poll scanning 10,000 updates runs in many turns of the event loop", async () => {
    const turns = countTurns();
    const response = await fetch(
      `${started.endpoint}?poll=1&timeout=0&topic=/target&${costly}&lastEventID=earliest`,
    );
    const body = (await response.json()) as { events: { data: string }[] };
    const counted = turns.stop();
    assert.deepEqual(
      body.events.map((e) => e.data),
      ["found"],
    );
    assert.ok(counted >= 5, `the poll ran in ${counted} turns of the event loop`);
  });

  test("a private update is refused on rights before any selector runs", () => {
    let runs = 0;
    const counting: Selector = {
      text: "{x}",
      kind: "template",
      matches: () => {
        runs++;
        return true;
      },
    };
    const update: StoredUpdate = { id: "p", topics: ["/p"], data: "", private: true, seq: 1, time: 0 };
    const anonymous = {
      subscribe: [],
      publish: [],
      payload: undefined,
      expiresAt: undefined,
      anonymous: true,
    };
    assert.equal(canReceive(update, [counting, counting], anonymous), false);
    assert.equal(runs, 0);
    assert.equal(canReceive({ ...update, private: false }, [counting], anonymous), true);
    assert.equal(runs, 1);
  });
});

describe("subscription events", { timeout: 60_000 }, () => {
  let started: Started;
  before(async () => {
    started = await startHub({ anonymous: true, subscriptions: true, historyMaxEvents: 10 });
  });
  after(() => started.hub.close());

  test("subscribers coming and going do not evict published updates from history", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(await publishOk(started.endpoint, { topic: "/kept", data: `r${i}` }));
    const selectors = Array.from({ length: 50 }, (_, i) => `topic=/churn/${i}`).join("&");
    for (let cycle = 0; cycle < 10; cycle++) {
      const churn = new Collector(`${started.endpoint}?${selectors}`);
      await churn.opened();
      churn.close();
    }
    const resumed = new Collector(`${started.endpoint}?topic=/kept`, { lastEventId: ids[0] });
    try {
      await resumed.waitFor(4);
      assert.deepEqual(
        resumed.events.map((e) => e.data),
        ["r1", "r2", "r3", "r4"],
      );
    } finally {
      resumed.close();
    }
  });

  test("a subscriber with rights gets them live, and resuming after one replays only what followed", async () => {
    const jwt = await token({
      subscribe: ["/.well-known/mercure/subscriptions{/topic}{/subscriber}", "/after"],
    });
    const watcher = new Collector(
      `${started.endpoint}?topic=${enc("/.well-known/mercure/subscriptions{/topic}{/subscriber}")}&topic=/after`,
      { jwt },
    );
    try {
      await watcher.opened();
      const other = new Collector(`${started.endpoint}?topic=/watched`);
      await other.opened();
      await watcher.until((events) => events.some((e) => e.data.includes('"/watched"')));
      other.close();
      const event = watcher.events.find((e) => e.data.includes('"/watched"'));
      assert.ok(event);
      await publishOk(started.endpoint, { topic: "/after", data: "next" });
      const resumed = new Collector(`${started.endpoint}?topic=/after`, { jwt, lastEventId: event.id });
      try {
        await resumed.waitFor(1);
        assert.deepEqual(
          resumed.events.map((e) => e.data),
          ["next"],
        );
      } finally {
        resumed.close();
      }
    } finally {
      watcher.close();
    }
  });

  test("selectors with characters encodeURIComponent keeps are matched by the recommended claim", async () => {
    const claim = "/.well-known/mercure/subscriptions{/topic}{/subscriber}";
    const jwt = await token({ subscribe: [claim] });
    const watcher = new Collector(`${started.endpoint}?topic=${enc(claim)}`, { jwt });
    try {
      await watcher.opened();
      const odd = new Collector(`${started.endpoint}?topic=*&match=${enc("/it's(odd)!")}`);
      await odd.opened();
      const topicsSeen = () =>
        watcher.events.map((e) => (JSON.parse(e.data) as { topic: string }).topic).filter((t) => t !== claim);
      await watcher.until(() => topicsSeen().length >= 2);
      assert.deepEqual(topicsSeen().sort(), ["*", "/it's(odd)!"]);
      const listed = await fetch(`${started.url}/.well-known/mercure/subscriptions`, {
        headers: { authorization: `Bearer ${jwt}` },
      });
      const body = (await listed.json()) as { subscriptions: { id: string; topic: string }[] };
      const mine = body.subscriptions.filter((s) => s.topic === "*" || s.topic === "/it's(odd)!");
      assert.equal(mine.length, 2);
      for (const s of mine) assert.doesNotMatch(s.id.slice(s.id.indexOf("subscriptions/")), /[!'()*]/);
      odd.close();
    } finally {
      watcher.close();
    }
  });
});

describe("replays larger than the send buffer", { timeout: 60_000 }, () => {
  let started: Started;
  before(async () => {
    started = await startHub({ anonymous: true, subscriptions: false, maxBufferedBytes: 256 * 1024 });
    await noise(started, 0);
    const data = "x".repeat(10_000);
    for (let i = 0; i < 200; i++) await started.hub.publish({ topics: ["/big"], data: `${i}:${data}` });
  });
  after(() => started.hub.close());

  test("2 MB of history reaches a client that reads, on one connection", async () => {
    const collector = new Collector(`${started.endpoint}?topic=/big&lastEventID=earliest`);
    let opens = 0;
    collector.source.addEventListener("open", () => opens++);
    try {
      await collector.waitFor(200);
      assert.deepEqual(
        collector.events.map((e) => Number(e.data.split(":")[0])),
        Array.from({ length: 200 }, (_, i) => i),
      );
      assert.equal(opens, 1);
    } finally {
      collector.close();
    }
  });

  test("over HTTP/2 too, 2 MB of history reaches a client that reads, on one stream", async () => {
    const certificate = selfSignedCertificate();
    const tls = await startHub({
      anonymous: true,
      subscriptions: false,
      maxBufferedBytes: 256 * 1024,
      tls: { cert: certificate.cert, key: certificate.key },
    });
    const session = connect(tls.url, { rejectUnauthorized: false });
    try {
      const data = "x".repeat(10_000);
      for (let i = 0; i < 200; i++) await tls.hub.publish({ topics: ["/big2"], data: `${i}:${data}` });
      const stream = session.request({ ":path": "/.well-known/mercure?topic=/big2&lastEventID=earliest" });
      stream.setEncoding("utf8");
      const received: number[] = [];
      const parser = createParser({ onEvent: (event) => received.push(Number(event.data.split(":")[0])) });
      await new Promise<void>((resolve, reject) => {
        stream.on("data", (text: string) => {
          parser.feed(text);
          if (received.length >= 200) resolve();
        });
        stream.on("close", () => reject(new Error(`stream closed after ${received.length} events`)));
        stream.on("error", reject);
      });
      assert.deepEqual(
        received,
        Array.from({ length: 200 }, (_, i) => i),
      );
      stream.close();
    } finally {
      session.destroy();
      await tls.hub.close();
      certificate.dispose();
    }
  });

  test("a client that reads no replay is cut off once the live updates held for it pass the bound", async () => {
    // More history than the kernel's socket buffers take, so the replay has to wait for the client.
    const chunk = "w".repeat(100_000);
    for (let i = 0; i < 120; i++) await started.hub.publish({ topics: ["/unread"], data: chunk });
    const url = new URL(`${started.endpoint}?topic=/unread&lastEventID=earliest`);
    const req = request(url, (res) => res.pause());
    req.on("error", () => undefined);
    req.end();
    try {
      await until(async () => (await openStreams(started)) === 1);
      // Nothing is read: what is published meanwhile is held for it, until past the bound.
      let open = 1;
      for (let i = 0; i < 2_000 && open > 0; i++) {
        await started.hub.publish({ topics: ["/unread"], data: "y".repeat(10_000) });
        if (i % 20 === 19) open = await openStreams(started);
      }
      assert.equal(open, 0, "the hub still holds the stream of a client that reads nothing");
    } finally {
      req.destroy();
    }
  });
});

/** The hub's open event streams, from /metrics. */
async function openStreams(started: Started): Promise<number> {
  const text = await (await fetch(`${started.url}/metrics`)).text();
  return Number(/^ssekit_hub_connections (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
}

/** Resolves once `check` holds, asking again on each turn of the event loop (at most 10,000 times). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (await check()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error("condition never held");
}

describe("poll answers are bounded in bytes", { timeout: 60_000 }, () => {
  let started: Started;
  before(async () => {
    started = await startHub({ anonymous: true, subscriptions: false, maxPollBytes: 64 * 1024 });
  });
  after(() => started.hub.close());

  test("an answer stops at maxPollBytes and the next poll goes on from it, with no gap", async () => {
    const data = "z".repeat(20_000);
    for (let i = 0; i < 10; i++) await publishOk(started.endpoint, { topic: "/polled", data: `${i}${data}` });
    await publishOk(started.endpoint, { topic: "/polled", data: `huge${"h".repeat(100_000)}` });
    let last = "earliest";
    const got: string[] = [];
    for (let polls = 0; polls < 20 && got.length < 11; polls++) {
      const response = await fetch(`${started.endpoint}?poll=1&timeout=0&topic=/polled&lastEventID=${last}`);
      const text = await response.text();
      const body = JSON.parse(text) as { events: { data: string }[]; lastEventId: string };
      assert.ok(body.events.length >= 1);
      // At most the bound, unless one event alone is larger.
      if (body.events.length > 1)
        assert.ok(Buffer.byteLength(text) <= 64 * 1024 + 200, `${text.length} bytes`);
      got.push(...body.events.map((e) => e.data.slice(0, 4)));
      last = body.lastEventId;
    }
    assert.deepEqual(got, [
      "0zzz",
      "1zzz",
      "2zzz",
      "3zzz",
      "4zzz",
      "5zzz",
      "6zzz",
      "7zzz",
      "8zzz",
      "9zzz",
      "huge",
    ]);
  });
});

describe("pattern selectors are bounded", { timeout: 60_000 }, () => {
  let started: Started;
  before(async () => {
    started = await startHub({
      anonymous: true,
      subscriptions: false,
      maxPatternSelectors: 3,
      maxDistinctPatterns: 4,
    });
  });
  after(() => started.hub.close());

  test("more patterns than one subscription may carry is 400 naming the limit", async () => {
    const query = ["/a/{x}", "/b/{x}", "/c/{x}", "/d/{x}"].map((t) => `topic=${enc(t)}`).join("&");
    const response = await fetch(`${started.endpoint}?${query}&topic=/exact`);
    assert.equal(response.status, 400);
    assert.match(await response.text(), /at most 3 per subscription \(maxPatternSelectors\)/);
  });

  test("more distinct patterns than the hub allows is 429 naming the limit; shared ones count once", async () => {
    const first = new Collector(`${started.endpoint}?topic=${enc("/a/{x}")}&topic=${enc("/b/{x}")}&topic=*`);
    const shared = new Collector(`${started.endpoint}?topic=${enc("/a/{x}")}&topic=${enc("/b/{x}")}&topic=*`);
    try {
      await Promise.all([first.opened(), shared.opened()]);
      const refused = await fetch(`${started.endpoint}?topic=${enc("/c/{x}")}&topic=${enc("/d/{x}")}`);
      assert.equal(refused.status, 429);
      assert.ok(refused.headers.get("retry-after"));
      assert.match(await refused.text(), /maxDistinctPatterns is 4/);
      const fits = new Collector(`${started.endpoint}?topic=${enc("/c/{x}")}`);
      await fits.opened();
      fits.close();
    } finally {
      first.close();
      shared.close();
    }
  });
});

describe("tokens and ids", { timeout: 60_000 }, () => {
  let started: Started;
  before(async () => {
    started = await startHub({ anonymous: true, subscriptions: true });
  });
  after(() => started.hub.close());

  test("a malformed percent escape in the mercureAuthorization cookie is 401 on every endpoint", async () => {
    const headers = { cookie: "mercureAuthorization=%E0%A4%A" };
    const answers = await Promise.all([
      fetch(`${started.endpoint}?topic=/c`, { headers }),
      fetch(`${started.endpoint}?topic=/c&poll=1&timeout=0`, { headers }),
      fetch(started.endpoint, {
        method: "POST",
        headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
        body: "topic=/c&data=x",
      }),
      fetch(`${started.url}/.well-known/mercure/subscriptions`, { headers }),
    ]);
    for (const response of answers) {
      assert.equal(response.status, 401);
      assert.match(await response.text(), /mercureAuthorization cookie has a malformed percent escape/);
    }
  });

  test("an anonymous subscriber or poll is told the newest public id, never a private one", async () => {
    const publicId = await publishOk(started.endpoint, { topic: "/ids", data: "public" });
    await publishOk(started.endpoint, {
      topic: "/ids",
      data: "secret",
      private: "on",
      id: "order-4711-refund",
    });
    const stream = await fetch(`${started.endpoint}?topic=/ids`);
    assert.equal(stream.headers.get("last-event-id"), publicId);
    await stream.body?.cancel();
    const poll = (await (await fetch(`${started.endpoint}?topic=/ids&poll=1&timeout=0`)).json()) as {
      lastEventId: string;
    };
    assert.equal(poll.lastEventId, publicId);
    const refused = await publish(started.endpoint, {
      topic: "/ids",
      data: "other",
      id: "order-4711-refund",
    });
    assert.equal(refused.status, 409);
  });
});
