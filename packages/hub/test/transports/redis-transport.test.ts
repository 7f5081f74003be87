// The Redis transport itself (no HTTP) against a real redis-server: what it writes to the history
// stream and what it reads back, on the tail and in replays, across nodes.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { connectRedis } from "@ssekit/redis";
import { RedisServer } from "../../../redis/test/support/redis-server.js";
import type { StoredUpdate, Update } from "../../src/domain/update.js";
import { RedisTransport } from "../../src/transports/redis.js";

/** Follows `transport`, collecting what its tail delivers. */
async function follow(transport: RedisTransport): Promise<StoredUpdate[]> {
  const delivered: StoredUpdate[] = [];
  await transport.follow({
    updates: (batch) => delivered.push(...batch),
    event: () => undefined,
    health: () => undefined,
    subscriptions: () => [],
  });
  return delivered;
}

async function until(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const ends = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > ends) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("Redis transport", () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(() => redis.stop());

  const open = (key: string) =>
    new RedisTransport({ redis: redis.url, key, maxEvents: 1000, maxAgeMs: 3_600_000 });

  test("a history written one field per property by an earlier version is replayed, resumed after and followed", async () => {
    const key = `hub-${randomUUID()}`;
    const raw = connectRedis(redis.url, "test-writer");
    const transport = open(key);
    try {
      await once(raw, "ready");
      // What the transport wrote before entries were packed: one field per property, the id indexed.
      const oldEntry = async (id: string, extra: string[]) => {
        const entryId = (await raw.xadd(`${key}:history`, "*", "id", id, ...extra)) as string;
        await raw.hset(`${key}:history:ids`, id, entryId);
      };
      await oldEntry("old-1", ["topics", '["/a","/b"]', "data", "one\ntwo", "private", "1", "type", "t"]);
      await oldEntry("old-2", ["topics", '["/a"]', "data", "three", "private", "0", "retry", "100"]);
      const delivered = await follow(transport);
      const replay = await transport.after("earliest", 10);
      assert.equal(replay.kind, "found");
      assert.deepEqual(
        replay.updates.map((u) => [u.id, u.topics, u.data, u.private, u.type, u.retry]),
        [
          ["old-1", ["/a", "/b"], "one\ntwo", true, "t", undefined],
          ["old-2", ["/a"], "three", false, undefined, 100],
        ],
      );
      assert.equal(await transport.lastPublicEventId(), "old-2");
      await oldEntry("old-3", ["topics", '["/a"]', "data", "four", "private", "0"]);
      const fresh = await transport.append({ id: "new-1", topics: ["/a"], data: "five", private: false });
      await until("the tail to deliver both", () => delivered.length === 2);
      assert.deepEqual(
        delivered.map((u) => [u.id, u.data]),
        [
          ["old-3", "four"],
          ["new-1", "five"],
        ],
      );
      assert.equal(delivered[1]?.seq, fresh.seq);
      const resumed = await transport.after("old-2", 10);
      assert.deepEqual(
        resumed.updates.map((u) => u.id),
        ["old-3", "new-1"],
      );
    } finally {
      raw.disconnect();
      await transport.close();
    }
  });

  test("every node's tail delivers every update as appended, in one order, while nodes append at once", async () => {
    const key = `hub-${randomUUID()}`;
    const nodes = [open(key), open(key), open(key)];
    try {
      const delivered = await Promise.all(nodes.map(follow));
      const appended: StoredUpdate[] = [];
      const rounds = 50;
      await Promise.all(
        nodes.map(async (node, n) => {
          for (let round = 0; round < rounds; round++) {
            // Some appended together, so they go in one batch; a private one and a typed one among them.
            const batch: Update[] = [0, 1, 2].map((i) => ({
              id: `n${n}-r${round}-${i}`,
              topics: [`/n${n}`, "/all"],
              data: `line\n${n} ${round} ${i}`,
              private: i === 1,
              type: i === 2 ? "typed" : undefined,
              retry: i === 2 ? round : undefined,
            }));
            appended.push(...(await Promise.all(batch.map((u) => node.append(u)))));
          }
        }),
      );
      const total = nodes.length * rounds * 3;
      await until("every tail to deliver everything", () => delivered.every((d) => d.length === total));
      // Every field, the position and the time included.
      const inLogOrder = [...appended].sort((a, b) => a.seq - b.seq);
      for (const d of delivered) assert.deepEqual(d, inLogOrder);
      const replay = await nodes[2]?.after("earliest", total);
      assert.deepEqual(replay?.updates, inLogOrder);
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
    }
  });
  test("close leaves no connection of the node behind, its following tails included, and a second close resolves only then too", async () => {
    const key = `hub-${randomUUID()}`;
    const transport = open(key);
    const admin = connectRedis(redis.url, "test-admin");
    let closing: Promise<void> | undefined;
    try {
      await once(admin, "ready");
      const named = async () =>
        String(await admin.call("CLIENT", "LIST"))
          .split("\n")
          .map((line) => line.match(/ name=(\S*) /)?.[1] ?? "")
          .filter((name) => name.includes(key))
          .sort();
      await follow(transport);
      await transport.append({ id: "one", topics: ["/a"], data: "x", private: false });
      assert.deepEqual(await named(), [
        `ssekit-hub-registry:${key}`,
        `ssekit-log:${key}:events`,
        `ssekit-log:${key}:history`,
        `ssekit-tail:${key}:events`,
        `ssekit-tail:${key}:history`,
      ]);
      closing = transport.close();
      await transport.close();
      assert.deepEqual(await named(), [], "every connection closed once close resolved");
    } finally {
      admin.disconnect();
      await (closing ?? transport.close());
    }
  });
});
