// The Redis transport in one process against a real redis-server: two hubs (nodes) sharing one
// Redis key prefix. What the multi-process tests (redis-cluster.test.ts) do not look at: history
// that subscription events cannot evict, subscription-event ids that resume on another node, the
// transport's metrics, and a hub that cannot reach Redis at start.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { RedisServer } from "../../../redis/test/support/redis-server.js";
import { createHub, RedisTransport } from "../../src/index.js";
import { Collector, publishOk, readStream, type Started, startHub, token } from "../support/hub-support.js";

const SUBSCRIPTIONS = "/.well-known/mercure/subscriptions{/topic}{/subscriber}";

describe("Redis transport", () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(() => redis.stop());

  async function twoNodes(input: Parameters<typeof startHub>[0] = {}): Promise<[Started, Started]> {
    const store = `${redis.url}?key=${`hub-${randomUUID()}`}`;
    const a = await startHub({ anonymous: true, ...input, store });
    const b = await startHub({ anonymous: true, ...input, store });
    return [a, b];
  }

  test("subscribers coming and going on every node never evict published updates from the shared history", async () => {
    const [a, b] = await twoNodes({ historyMaxEvents: 5 });
    try {
      const kept: string[] = [];
      for (let n = 0; n < 5; n++) kept.push(await publishOk(a.endpoint, { topic: "/kept", data: String(n) }));
      for (let round = 0; round < 10; round++) {
        const visitors = [a, b].map((hub) => new Collector(`${hub.endpoint}?topic=/visit&topic=/kept-not`));
        await Promise.all(visitors.map((v) => v.opened()));
        for (const v of visitors) v.close();
      }
      const { text } = await readStream(`${b.endpoint}?topic=/kept&lastEventID=earliest`, {}, (t) =>
        kept.every((id) => t.includes(`id: ${id}`)),
      );
      assert.deepEqual(
        [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]),
        kept,
      );
    } finally {
      await Promise.all([a.hub.close(), b.hub.close()]);
    }
  });

  test("a subscription event seen on one node is a Last-Event-ID another node resumes after", async () => {
    const [a, b] = await twoNodes();
    const jwt = await token({ subscribe: [SUBSCRIPTIONS, "/after-event"] });
    const watcher = new Collector(
      `${a.endpoint}?topic=${encodeURIComponent(SUBSCRIPTIONS)}&topic=/after-event`,
      { jwt },
    );
    try {
      await watcher.opened();
      const before = await publishOk(a.endpoint, { topic: "/after-event", data: "before" });
      await watcher.waitFor(1);
      const visitor = new Collector(`${b.endpoint}?topic=/elsewhere`);
      await visitor.opened();
      await watcher.until((events) =>
        events.some((e) => e.data.includes('"active":true') && e.data.includes("/elsewhere")),
      );
      const event = watcher.events.find((e) => e.data.includes("/elsewhere"));
      visitor.close();
      const later = await publishOk(a.endpoint, { topic: "/after-event", data: "later" });
      const resumed = new Collector(`${b.endpoint}?topic=/after-event`, { jwt, lastEventId: event?.id });
      try {
        await resumed.waitFor(1);
        assert.deepEqual(
          resumed.events.map((e) => e.id),
          [later],
        );
        assert.notEqual(later, before);
      } finally {
        resumed.close();
      }
    } finally {
      watcher.close();
      await Promise.all([a.hub.close(), b.hub.close()]);
    }
  });

  test("/metrics reports the transport: append round trip, tail lag, reconnects and whether it is up", async () => {
    const [a, b] = await twoNodes();
    try {
      await publishOk(a.endpoint, { topic: "/m", data: "x" });
      const text = await (await fetch(`${b.url}/metrics`)).text();
      assert.match(text, /^ssekit_hub_transport_up 1$/m);
      assert.match(text, /^ssekit_hub_transport_reconnects_total 0$/m);
      assert.match(text, /^ssekit_hub_tail_lag_milliseconds \d+/m);
      const own = await (await fetch(`${a.url}/metrics`)).text();
      assert.match(own, /^ssekit_hub_transport_append_seconds_count 1$/m);
    } finally {
      await Promise.all([a.hub.close(), b.hub.close()]);
    }
  });

  test("a hub that cannot reach Redis at start refuses to listen, saying so", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const address = closed.address();
    const port = typeof address === "object" && address ? address.port : 0;
    await new Promise((resolve) => closed.close(resolve));
    const hub = createHub({ store: `redis://127.0.0.1:${port}`, logger: "silent", ui: false });
    try {
      await assert.rejects(hub.listen(0, "127.0.0.1"), /Redis|connect|ECONNREFUSED/);
    } finally {
      await hub.close();
    }
  });

  test("subscription events that could not be sent while Redis was down are sent, in order, when it is back", async (t) => {
    const own = await RedisServer.start({ appendonly: true });
    // Also when something fails before the test's own finally: no server, hub or connection left behind.
    t.after(() => own.stop());
    const store = `${own.url}?key=outage-events`;
    const a = await startHub({ anonymous: true, store });
    t.after(() => a.hub.close());
    const transport = new RedisTransport({
      redis: own.url,
      key: "outage-events",
      maxEvents: 1000,
      maxAgeMs: 0,
    });
    t.after(() => transport.close());
    const b = await startHub({ anonymous: true, transport });
    t.after(() => b.hub.close());
    const jwt = await token({ subscribe: [SUBSCRIPTIONS] });
    const watcher = new Collector(`${a.endpoint}?topic=${encodeURIComponent(SUBSCRIPTIONS)}`, { jwt });
    const seen = (topic: string, active: boolean) => (events: readonly { data: string }[]) =>
      events.findIndex((e) => e.data.includes(`"active":${active}`) && e.data.includes(topic));
    let gone: Collector | undefined;
    let during: Collector | undefined;
    try {
      // Subscription events are live only: the one that watches them must be subscribed before
      // the subscriber it watches arrives, or that one's "active" event is gone before it is.
      await watcher.opened();
      gone = new Collector(`${b.endpoint}?topic=/gone`);
      await gone.opened();
      await watcher.until((events) => seen("/gone", true)(events) >= 0);
      await own.kill();
      // While Redis is down, one subscriber leaves node B and another arrives: neither event can be sent.
      gone.close();
      const deadline = Date.now() + 20_000;
      while (transport.unsentEvents < 1 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      during = new Collector(`${b.endpoint}?topic=/during`);
      await during.opened();
      while (transport.unsentEvents < 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      assert.equal(transport.unsentEvents, 2);
      await own.restart();
      // Bounded in time: ioredis reconnects with a backoff of up to 2 s between attempts.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        watcher.until((events) => seen("/during", true)(events) >= 0),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("the kept events never arrived")), 20_000);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.ok(seen("/gone", false)(watcher.events) >= 0, "the inactive event of the one that left");
      assert.ok(
        seen("/gone", false)(watcher.events) < seen("/during", true)(watcher.events),
        "in the order they happened",
      );
      // Node B forgets a kept event once Redis has answered its append, which node A's tail may
      // have read (and the watcher received) first.
      const sent = Date.now() + 10_000;
      while (transport.unsentEvents > 0 && Date.now() < sent) await new Promise((r) => setTimeout(r, 10));
      assert.equal(transport.unsentEvents, 0);
      assert.equal(watcher.opens, 1, "the watcher's stream stayed open through the outage");
    } finally {
      watcher.close();
      gone?.close();
      during?.close();
      await Promise.all([a.hub.close(), b.hub.close()]);
      await own.stop();
    }
  });

  test("after a Redis restart that lost everything, each node registers its subscriptions again and the hub goes on", async (t) => {
    const own = await RedisServer.start();
    // Also when something fails before the test's own finally: no server or hub left behind.
    t.after(() => own.stop());
    const store = `${own.url}?key=lost&nodeTimeoutMs=600`;
    const a = await startHub({ anonymous: true, store });
    t.after(() => a.hub.close());
    const b = await startHub({ anonymous: true, store });
    t.after(() => b.hub.close());
    const admin = await token({ subscribe: [SUBSCRIPTIONS] });
    const listed = async (hub: Started) => {
      const response = await fetch(`${hub.url}/.well-known/mercure/subscriptions`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      return response.status === 200
        ? ((await response.json()) as { subscriptions: { topic: string }[] }).subscriptions.map(
            (s) => s.topic,
          )
        : [];
    };
    const onB = new Collector(`${b.endpoint}?topic=/survivor`);
    try {
      await onB.opened();
      assert.deepEqual(await listed(a), ["/survivor"]);
      await own.kill();
      await own.restart(); // no appendonly: Redis comes back empty
      // Node B's next heartbeat finds its key gone and registers its subscription again.
      // Bounded in time: ioredis reconnects with a backoff of up to 2 s between attempts.
      const deadline = Date.now() + 20_000;
      let seen: string[] = [];
      while (!seen.includes("/survivor") && Date.now() < deadline) seen = await listed(a);
      assert.deepEqual(seen, ["/survivor"]);
      // And publishing reaches the subscriber that stayed connected through it all.
      let id = "";
      while (id === "" && Date.now() < deadline) {
        const response = await fetch(a.endpoint, {
          method: "POST",
          headers: {
            authorization: `Bearer ${await token({ publish: ["*"] })}`,
            "content-type": "application/x-www-form-urlencoded",
          },
          body: new URLSearchParams({ topic: "/survivor", data: "still here" }),
        });
        if (response.status === 200) id = await response.text();
        else await response.text();
      }
      await onB.waitFor(1);
      assert.equal(onB.events[0]?.id, id);
      assert.equal(onB.opens, 1);
    } finally {
      onB.close();
      await Promise.all([a.hub.close(), b.hub.close()]);
      await own.stop();
    }
  });
});
