// Many hub processes on one real redis-server act as one hub: three `ssekit hub` processes on one
// Redis (subscribers on every node, publishes to every node), resuming on another node, SIGKILL of
// a hub mid-stream (its subscribers move to the others; its subscriptions are removed hub-wide with
// their "inactive" events), SIGKILL and restart of Redis with AOF mid-stream, and `--workers`.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { RedisServer } from "../../../redis/test/support/redis-server.js";
import { type HubProcess, spawnCli, startHub } from "../support/cli-process.js";
import { Collector, publish, publishOk, type Received, SECRET, token } from "../support/hub-support.js";

const SUBSCRIPTIONS = "/.well-known/mercure/subscriptions{/topic}{/subscriber}";
/** Publishes go to each node in turn. */
const ROUNDS = 30;

/** A fetch that sends each request to the first of `bases()` that accepts it, as a load balancer with health checks would. */
function balancedFetch(bases: () => readonly string[]): typeof fetch {
  return async (input, init) => {
    let lastError: unknown = new Error("no hub");
    for (const base of bases()) {
      const url = new URL(String(input instanceof Request ? input.url : input));
      const target = new URL(base);
      url.host = target.host;
      try {
        return await fetch(url, init);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  };
}

const ids = (events: readonly Received[]) => events.map((e) => e.id);

function hubArgs(store: string): string[] {
  return [
    "--port",
    "0",
    "--store",
    store,
    "--jwt-key",
    SECRET,
    "--anonymous",
    "--log-level",
    "silent",
    "--heartbeat",
    "200ms",
  ];
}

describe("three hub processes on one Redis", () => {
  let redis: RedisServer;
  let store: string;
  const hubs: HubProcess[] = [];
  const collectors: Collector[] = [];

  before(async () => {
    redis = await RedisServer.start({ appendonly: true });
    store = `${redis.url}?key=${`cluster-${randomUUID()}`}&nodeTimeoutMs=1500`;
    for (let i = 0; i < 3; i++) hubs.push(await startHub(hubArgs(store)));
  });
  after(async () => {
    for (const c of collectors) c.close();
    for (const hub of hubs) await hub.kill();
    await redis.stop();
  });

  const collect = (url: string, options: ConstructorParameters<typeof Collector>[1] = {}) => {
    const c = new Collector(url, options);
    collectors.push(c);
    return c;
  };
  const node = (i: number) => hubs[i % hubs.length] as HubProcess;

  test("every subscriber on every node gets every update it may receive once, all in one order; private ones stay private", async () => {
    const privateJwt = await token({ subscribe: ["/c/{n}"] });
    const anonymous = [0, 1, 2].map((i) =>
      collect(`${node(i).mercure}?topic=${encodeURIComponent("/c/{n}")}`),
    );
    const authorized = [0, 1, 2].map((i) =>
      collect(`${node(i).mercure}?topic=${encodeURIComponent("/c/{n}")}`, { jwt: privateJwt }),
    );
    await Promise.all([...anonymous, ...authorized].map((c) => c.opened()));
    const published: { id: string; private: boolean }[] = [];
    // Five publishes in flight at once, each to another node: the log decides one order.
    for (let round = 0; round < ROUNDS; round += 5) {
      const batch = await Promise.all(
        [0, 1, 2, 3, 4].map(async (k) => {
          const n = round + k;
          const isPrivate = n % 3 === 0;
          const fields: Record<string, string> = { topic: `/c/${n}`, data: String(n) };
          if (isPrivate) fields.private = "on";
          return { id: await publishOk(node(n).mercure, fields), private: isPrivate };
        }),
      );
      published.push(...batch);
    }
    const publicIds = published.filter((p) => !p.private).map((p) => p.id);
    await Promise.all(anonymous.map((c) => c.waitFor(publicIds.length)));
    await Promise.all(authorized.map((c) => c.waitFor(published.length)));
    const order = ids(authorized[0]?.events ?? []);
    assert.deepEqual([...order].sort(), published.map((p) => p.id).sort(), "every update, once");
    for (const c of authorized) assert.deepEqual(ids(c.events), order, "one order on every node");
    const publicOrder = order.filter((id) => publicIds.includes(id));
    for (const c of anonymous) assert.deepEqual(ids(c.events), publicOrder, "no private update, no gap");
    // A later public update arrives after all of them: nothing else was held back.
    const last = await publishOk(node(1).mercure, { topic: "/c/last", data: "last" });
    await Promise.all(anonymous.map((c) => c.waitFor(publicIds.length + 1)));
    for (const c of anonymous) assert.equal(c.events.at(-1)?.id, last);
  });

  test("a subscriber that leaves node A resumes on node B with Last-Event-ID: no gap, no duplicate", async () => {
    const topic = `/resume/${randomUUID()}`;
    const first = collect(`${node(0).mercure}?topic=${encodeURIComponent(topic)}`);
    await first.opened();
    const before: string[] = [];
    for (let n = 0; n < 10; n++) before.push(await publishOk(node(n).mercure, { topic, data: String(n) }));
    await first.waitFor(10);
    first.close();
    const later: string[] = [];
    for (let n = 10; n < 20; n++)
      later.push(await publishOk(node(n + 2).mercure, { topic, data: String(n) }));
    const resumed = collect(`${node(1).mercure}?topic=${encodeURIComponent(topic)}`, {
      lastEventId: before.at(-1),
    });
    await resumed.waitFor(10);
    const live = await publishOk(node(2).mercure, { topic, data: "live" });
    await resumed.waitFor(11);
    assert.deepEqual(ids(first.events), before);
    assert.deepEqual(ids(resumed.events), [...later, live]);
  });

  test("SIGKILL of a hub mid-stream: its subscribers resume on the others with nothing lost, and its subscriptions are removed hub-wide with their inactive events", async () => {
    const topic = `/kill/${randomUUID()}`;
    const watcherJwt = await token({ subscribe: [SUBSCRIPTIONS] });
    const admin = await token({ subscribe: [SUBSCRIPTIONS] });
    // Node 2 watches the subscription events of the whole hub.
    const watcher = collect(`${node(2).mercure}?topic=${encodeURIComponent(SUBSCRIPTIONS)}`, {
      jwt: watcherJwt,
    });
    await watcher.opened();
    const victim = node(0);
    const bases = () =>
      hubs.filter((h) => h.child.exitCode === null && h.child.signalCode === null).map((h) => h.url);
    const movers = [0, 1].map(() =>
      collect(`${victim.mercure}?topic=${encodeURIComponent(topic)}`, { fetch: balancedFetch(bases) }),
    );
    await Promise.all(movers.map((c) => c.opened()));
    const isActive = (e: Received, wanted: boolean) => {
      const doc = JSON.parse(e.data) as { topic: string; active: boolean; subscriber: string };
      return doc.topic === topic && doc.active === wanted;
    };
    await watcher.until((events) => events.filter((e) => isActive(e, true)).length >= 2);
    const victimSubscribers = watcher.events
      .filter((e) => isActive(e, true))
      .map((e) => (JSON.parse(e.data) as { subscriber: string }).subscriber);
    // The subscriptions API of node 1 lists node 0's subscribers.
    const listing = async () => {
      const response = await fetch(
        `${node(1).url}/.well-known/mercure/subscriptions/${encodeURIComponent(topic)}`,
        {
          headers: { authorization: `Bearer ${admin}` },
        },
      );
      assert.equal(response.status, 200);
      return ((await response.json()) as { subscriptions: { subscriber: string }[] }).subscriptions.map(
        (s) => s.subscriber,
      );
    };
    assert.deepEqual((await listing()).sort(), [...victimSubscribers].sort());

    const sent: string[] = [];
    for (let n = 0; n < 10; n++)
      sent.push(await publishOk(node(1 + (n % 2)).mercure, { topic, data: String(n) }));
    await Promise.all(movers.map((c) => c.waitFor(10)));
    await victim.kill("SIGKILL");
    // Published while the subscribers are cut off and reconnecting elsewhere.
    for (let n = 10; n < 20; n++)
      sent.push(await publishOk(node(1 + (n % 2)).mercure, { topic, data: String(n) }));
    await Promise.all(movers.map((c) => c.waitFor(20)));
    for (const c of movers) {
      assert.deepEqual(ids(c.events), sent, "every update once, in order, across the move");
      assert.ok(c.opens >= 2, "the subscriber reconnected");
    }
    // The dead node's subscriptions go inactive hub-wide once its heartbeat key expires.
    await watcher.until((events) =>
      victimSubscribers.every((id) =>
        events.some(
          (e) => isActive(e, false) && (JSON.parse(e.data) as { subscriber: string }).subscriber === id,
        ),
      ),
    );
    const remaining = await listing();
    for (const id of victimSubscribers) assert.ok(!remaining.includes(id), `${id} is no longer listed`);
    assert.equal(remaining.length, 2, "the movers' new subscriptions on the surviving nodes are listed");
  });

  test("Redis SIGKILLed and restarted (AOF) mid-stream: acknowledged updates delivered once, publishes 503 with Retry-After meanwhile, streams stay open, /healthz says why", async () => {
    const topic = `/outage/${randomUUID()}`;
    const [b, c] = [node(1), node(2)];
    const subscribers = [b, c].map((hub) => collect(`${hub.mercure}?topic=${encodeURIComponent(topic)}`));
    await Promise.all(subscribers.map((s) => s.opened()));
    const acknowledged: string[] = [];
    for (let n = 0; n < 15; n++)
      acknowledged.push(await publishOk((n % 2 ? b : c).mercure, { topic, data: String(n) }));
    await redis.kill();

    const refused = await publish(b.mercure, { topic, data: "during" });
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    assert.match(await refused.text(), /Redis/);
    // Node C learns of the outage when its connections close (bounded in time, not a sleep).
    const noticed = Date.now() + 5_000;
    let health = await fetch(`${c.url}/healthz`);
    while (health.status !== 503 && Date.now() < noticed) {
      await health.text();
      health = await fetch(`${c.url}/healthz`);
    }
    assert.equal(health.status, 503);
    assert.match(await health.text(), /Redis/);
    // Heartbeats go on: a stream opened before the outage reads comments during it.
    const stream = await fetch(`${b.mercure}?topic=${encodeURIComponent(topic)}`, {
      signal: AbortSignal.timeout(20_000),
    });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while ((text.match(/^:\n/gm) ?? []).length < 3)
      text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();

    await redis.restart();
    // A publisher retrying with the same id, as the 503 invites, is acknowledged once the node has
    // reconnected, and the update is stored once however many attempts reached Redis.
    const retryId = `after-${randomUUID()}`;
    let after = await publish(c.mercure, { topic, data: "after", id: retryId });
    // Bounded in time: ioredis reconnects with a backoff of up to 2 s between attempts.
    const deadline = Date.now() + 20_000;
    while (after.status === 503 && Date.now() < deadline) {
      await after.text();
      await (await fetch(`${c.url}/healthz`)).text();
      after = await publish(c.mercure, { topic, data: "after", id: retryId });
    }
    assert.equal(after.status, 200);
    assert.equal(await after.text(), retryId);
    await Promise.all(subscribers.map((s) => s.waitFor(acknowledged.length + 1)));
    for (const s of subscribers) {
      assert.deepEqual(ids(s.events), [...acknowledged, retryId]);
      assert.equal(s.opens, 1, "the stream stayed open through the outage");
    }
    // Node B's own connection comes back too (each connection reconnects on its own backoff).
    let healthy = await fetch(`${b.url}/healthz`);
    while (healthy.status !== 200 && Date.now() < deadline) {
      await healthy.text();
      healthy = await fetch(`${b.url}/healthz`);
    }
    assert.equal(healthy.status, 200, await healthy.text());
  });
});

describe("ssekit hub --workers", () => {
  test("refuses to start workers without a shared transport, naming the settings", async () => {
    const cli = spawnCli(["hub", "--workers", "2", "--port", "0", "--store", "memory", "--jwt-key", SECRET]);
    assert.equal(await cli.exited(), 2);
    assert.match(cli.stderr(), /--workers: 2 workers need a shared transport.*--store/);
  });

  test("two workers on one port act as one hub: every subscriber gets every update, the subscriptions API lists them all, a dead worker is replaced", async (t) => {
    const redis = await RedisServer.start();
    // Also when the hub fails to start, before the test's own finally.
    t.after(() => redis.stop());
    const collectors: Collector[] = [];
    const hub = await startHub([...hubArgs(`${redis.url}?key=workers-${randomUUID()}`), "--workers", "2"]);
    try {
      const topic = `/workers/${randomUUID()}`;
      // Eight connections: the kernel hands them to both workers.
      for (let i = 0; i < 8; i++)
        collectors.push(new Collector(`${hub.mercure}?topic=${encodeURIComponent(topic)}`));
      await Promise.all(collectors.map((c) => c.opened()));
      const sent: string[] = [];
      for (let n = 0; n < 10; n++) sent.push(await publishOk(hub.mercure, { topic, data: String(n) }));
      await Promise.all(collectors.map((c) => c.waitFor(10)));
      for (const c of collectors) assert.deepEqual(ids(c.events), sent);
      const admin = await token({ subscribe: [SUBSCRIPTIONS] });
      for (let i = 0; i < 4; i++) {
        const response = await fetch(
          `${hub.url}/.well-known/mercure/subscriptions/${encodeURIComponent(topic)}`,
          {
            headers: { authorization: `Bearer ${admin}`, connection: "close" },
          },
        );
        const listed = ((await response.json()) as { subscriptions: unknown[] }).subscriptions;
        assert.equal(listed.length, 8, "each worker lists the subscriptions of both");
      }
      // A worker that dies is replaced, and the hub goes on serving on the same port.
      const workers = readFileSync(`/proc/${hub.child.pid}/task/${hub.child.pid}/children`, "utf8")
        .trim()
        .split(/\s+/)
        .map(Number);
      assert.equal(workers.length, 2);
      process.kill(workers[0] as number, "SIGKILL");
      await hub.waitFor(/worker \d exited \(SIGKILL\); starting another/, "stderr");
      const late = new Collector(`${hub.mercure}?topic=${encodeURIComponent(topic)}`);
      collectors.push(late);
      await late.opened();
      const after = await publishOk(hub.mercure, { topic, data: "after the restart" });
      await late.waitFor(1);
      assert.equal(late.events[0]?.id, after);
      hub.child.kill("SIGTERM");
      assert.equal(await hub.exited(), 0);
    } finally {
      for (const c of collectors) c.close();
      await hub.kill();
      await redis.stop();
    }
  });
});
