import assert from "node:assert/strict";
import { test } from "node:test";
import { App, balancedFetch, Client } from "./support/apps.js";
import { RedisServer } from "./support/redis-server.js";

// Several app processes share one channel through a real redis-server; real clients of two kinds
// (the eventsource package and ssekit's EventSource) follow them over 127.0.0.1.

async function stopAll(apps: readonly App[], clients: readonly Client[], redis: RedisServer | undefined) {
  for (const client of clients) client.close();
  await Promise.all(apps.map((app) => app.kill("SIGTERM")));
  await redis?.stop();
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** Starts `count` apps on `key`, each put in `apps` as soon as it listens: `finally` stops every one that started, whatever happened to the others. */
async function startApps(apps: App[], count: number, url: string, key: string): Promise<void> {
  const started = await Promise.allSettled(
    range(0, count).map(async () => {
      apps.push(await App.start(url, key));
    }),
  );
  const failed = started.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}

for (const count of [2, 3]) {
  test(
    `${count} app processes: clients on each get every broadcast once, in one order, with the same ids; poll agrees`,
    { timeout: 60_000 },
    async () => {
      let redis: RedisServer | undefined;
      const apps: App[] = [];
      const clients: Client[] = [];
      try {
        redis = await RedisServer.start();
        const url = redis.url;
        await startApps(apps, count, url, "ticks");
        for (const app of apps) {
          for (const kind of ["eventsource", "ssekit"] as const) {
            clients.push(
              new Client(
                kind,
                `${app.url}/events`,
                balancedFetch(() => [app.port]),
              ),
            );
          }
        }
        await Promise.all(clients.map((c) => c.opened()));
        // Concurrent broadcasts from every instance: the log decides the one order.
        const total = 60;
        const ids = new Map<number, string>();
        for (let start = 0; start < total; start += 12) {
          const batch = range(start, Math.min(total, start + 12));
          const results = await Promise.all(batch.map((n) => apps[n % count]?.broadcast(n)));
          results.forEach((result, i) => {
            assert.ok(result?.ok, result?.body);
            ids.set(batch[i] ?? -1, result?.body ?? "");
          });
        }
        await Promise.all(clients.map((c) => c.until(total)));
        const reference = clients[0]?.ticks ?? [];
        assert.equal(reference.length, total);
        assert.deepEqual(
          [...reference.map((t) => t.n)].sort((a, b) => a - b),
          range(0, total),
          "each broadcast once",
        );
        for (const tick of reference)
          assert.equal(tick.id, ids.get(tick.n), "the id is the one broadcast returned");
        for (const client of clients) assert.deepEqual(client.ticks, reference, "one order everywhere");
        // Polling any instance reads the same log.
        const last = apps.at(-1);
        const poll = await fetch(`${last?.url}/poll?poll=1&lastEventID=${reference[9]?.id}&timeout=0`);
        const body = (await poll.json()) as { events: { id: string }[] };
        assert.deepEqual(
          body.events.map((e) => e.id),
          reference.slice(10).map((t) => t.id),
        );
      } finally {
        await stopAll(apps, clients, redis);
      }
    },
  );
}

test(
  "a client resumes on another instance after its Last-Event-ID, with no gap and no duplicate",
  { timeout: 60_000 },
  async () => {
    let redis: RedisServer | undefined;
    const apps: App[] = [];
    const clients: Client[] = [];
    try {
      redis = await RedisServer.start();
      const url = redis.url;
      await startApps(apps, 2, url, "resume");
      const [a, b] = apps as [App, App];
      const first = new Client(
        "eventsource",
        `${a.url}/events`,
        balancedFetch(() => [a.port]),
      );
      clients.push(first);
      await first.opened();
      for (const n of range(0, 5)) assert.ok((await a.broadcast(n)).ok);
      await first.until(5);
      first.close();
      for (const n of range(5, 10)) assert.ok((await b.broadcast(n)).ok);
      const seen = first.ticks.at(-1)?.id ?? "";
      // The eventsource package cannot set Last-Event-ID on a new object: the query form; ssekit's can.
      const thirdParty = new Client(
        "eventsource",
        `${b.url}/events?lastEventId=${encodeURIComponent(seen)}`,
        balancedFetch(() => [b.port]),
      );
      const ours = new Client(
        "ssekit",
        `${b.url}/events?lastEventId=${encodeURIComponent(seen)}`,
        balancedFetch(() => [b.port]),
      );
      clients.push(thirdParty, ours);
      await Promise.all([thirdParty.until(5), ours.until(5)]);
      for (const n of range(10, 12)) assert.ok((await a.broadcast(n)).ok);
      await Promise.all([thirdParty.until(7), ours.until(7)]);
      assert.deepEqual(thirdParty.numbers(), range(5, 12));
      assert.deepEqual(ours.numbers(), range(5, 12));
    } finally {
      await stopAll(apps, clients, redis);
    }
  },
);

test(
  "Redis SIGKILL and restart (appendonly) mid-stream: broadcasts are refused while it is down, streams stay open, every acknowledged broadcast arrives once, in order",
  { timeout: 60_000 },
  async () => {
    let redis: RedisServer | undefined;
    const apps: App[] = [];
    const clients: Client[] = [];
    try {
      redis = await RedisServer.start({ appendonly: true });
      const url = redis.url;
      await startApps(apps, 2, url, "outage");
      for (const app of apps) {
        for (const kind of ["eventsource", "ssekit"] as const) {
          clients.push(
            new Client(
              kind,
              `${app.url}/events`,
              balancedFetch(() => [app.port]),
            ),
          );
        }
      }
      await Promise.all(clients.map((c) => c.opened()));
      const acknowledged: number[] = [];
      let n = 0;
      const send = async () => {
        const app = apps[n % apps.length] as App;
        const result = await app.broadcast(n);
        if (result.ok) acknowledged.push(n);
        n++;
        return result;
      };
      while (acknowledged.length < 10) assert.ok((await send()).ok);
      await redis.kill();
      // Down: the apps answer 503 with the reason; nothing of it may reach a client.
      for (let i = 0; i < 4; i++) {
        const refused = await send();
        assert.equal(refused.status, 503);
        assert.match(refused.body, /Redis is not reachable|connection/i);
      }
      await redis.restart();
      const target = acknowledged.length + 10;
      while (acknowledged.length < target) await send();
      await Promise.all(clients.map((c) => c.until(acknowledged.length)));
      for (const client of clients) {
        assert.deepEqual(client.numbers(), acknowledged);
        assert.equal(client.opens, 1, "the stream stayed open through the outage");
      }
    } finally {
      await stopAll(apps, clients, redis);
    }
  },
);

test(
  "SIGKILL of one app instance: its clients reconnect to another and resume, with no gap and no duplicate",
  { timeout: 60_000 },
  async () => {
    let redis: RedisServer | undefined;
    const apps: App[] = [];
    const clients: Client[] = [];
    try {
      redis = await RedisServer.start();
      const url = redis.url;
      await startApps(apps, 2, url, "failover");
      const [a, b] = apps as [App, App];
      // Each client goes to a while it answers, else to b: a load balancer's view.
      for (const kind of ["eventsource", "ssekit"] as const) {
        clients.push(
          new Client(
            kind,
            `${a.url}/events`,
            balancedFetch(() => [a.port, b.port]),
          ),
        );
      }
      await Promise.all(clients.map((c) => c.opened()));
      for (const n of range(0, 10)) assert.ok((await b.broadcast(n)).ok);
      await Promise.all(clients.map((c) => c.until(10)));
      await a.kill("SIGKILL");
      // Broadcasts go on while the clients notice and reconnect.
      for (const n of range(10, 20)) assert.ok((await b.broadcast(n)).ok);
      await Promise.all(clients.map((c) => c.opened(2)));
      for (const n of range(20, 25)) assert.ok((await b.broadcast(n)).ok);
      await Promise.all(clients.map((c) => c.until(25)));
      for (const client of clients) assert.deepEqual(client.numbers(), range(0, 25));
    } finally {
      await stopAll(apps, clients, redis);
    }
  },
);
