// Fan-out through the topic index, observed by real `eventsource` subscribers of a real hub:
// exact selectors (indexed) and patterns (tested per update) get what they match, once each,
// private updates still need the subscribe claim, and a gone subscriber leaves the index.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Collector, publishOk, type Started, startHub, token } from "../support/hub-support.js";

let started: Started;
before(async () => {
  started = await startHub({ anonymous: true });
});
after(() => started.hub.close());

const sub = (query: string) => `${started.endpoint}?${query}`;
const enc = encodeURIComponent;

async function delivered(): Promise<number> {
  const text = await (await fetch(`${started.url}/metrics`)).text();
  return Number(/^ssekit_hub_delivered_total (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
}

describe("fan-out", () => {
  test("an update on several topics reaches a subscriber of more than one of them once", async () => {
    const exact = new Collector(sub(`match=${enc("/f/a")}&match=${enc("/f/b")}&topic=/f/b`));
    const mixed = new Collector(sub(`topic=/f/a&topic=${enc("/f/{x}")}`));
    try {
      await Promise.all([exact.opened(), mixed.opened()]);
      await publishOk(started.endpoint, { topic: ["/f/a", "/f/b", "/f/c"], data: "one" });
      await publishOk(started.endpoint, { topic: "/f/b", data: "end" });
      await Promise.all([exact.waitFor(2), mixed.waitFor(2)]);
      assert.deepEqual(
        exact.events.map((e) => e.data),
        ["one", "end"],
      );
      assert.deepEqual(
        mixed.events.map((e) => e.data),
        ["one", "end"],
      );
    } finally {
      exact.close();
      mixed.close();
    }
  });

  test("many subscribers on their own exact topics each get only their topic, in order", async () => {
    const count = 40;
    const collectors = Array.from(
      { length: count },
      (_, i) => new Collector(sub(`match=${enc(`/own/${i}`)}`)),
    );
    const all = new Collector(sub("topic=*"));
    try {
      await Promise.all([...collectors.map((c) => c.opened()), all.opened()]);
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < count; i++) {
          await publishOk(started.endpoint, { topic: `/own/${i}`, data: `${i}:${round}` });
        }
      }
      await Promise.all([
        ...collectors.map((c) => c.waitFor(3)),
        all.until((events) => events.length >= 3 * count),
      ]);
      collectors.forEach((c, i) => {
        assert.deepEqual(
          c.events.map((e) => e.data),
          [`${i}:0`, `${i}:1`, `${i}:2`],
        );
      });
      assert.equal(all.events.filter((e) => e.data.includes(":")).length, 3 * count);
    } finally {
      for (const c of collectors) c.close();
      all.close();
    }
  });

  test("a private update on an exact topic reaches only subscribers whose token allows it", async () => {
    const allowed = await token({ subscribe: ["/secret/1"] });
    const other = await token({ subscribe: ["/secret/2"] });
    const yes = new Collector(sub("match=/secret/1"), { jwt: allowed });
    const no = new Collector(sub("match=/secret/1"), { jwt: other });
    const anonymous = new Collector(sub("match=/secret/1"));
    try {
      await Promise.all([yes.opened(), no.opened(), anonymous.opened()]);
      await publishOk(started.endpoint, { topic: "/secret/1", data: "private", private: "on" });
      await publishOk(started.endpoint, { topic: "/secret/1", data: "public" });
      await Promise.all([yes.waitFor(2), no.waitFor(1), anonymous.waitFor(1)]);
      assert.deepEqual(
        yes.events.map((e) => e.data),
        ["private", "public"],
      );
      assert.deepEqual(
        no.events.map((e) => e.data),
        ["public"],
      );
      assert.deepEqual(
        anonymous.events.map((e) => e.data),
        ["public"],
      );
    } finally {
      yes.close();
      no.close();
      anonymous.close();
    }
  });

  test("a subscriber that went away is no longer written to; the one left still is", async () => {
    const leaving = new Collector(sub("match=/leave"));
    const staying = new Collector(sub("match=/leave"));
    try {
      await Promise.all([leaving.opened(), staying.opened()]);
      await publishOk(started.endpoint, { topic: "/leave", data: "both" });
      await Promise.all([leaving.waitFor(1), staying.waitFor(1)]);
      const watcher = new Collector(
        sub(`topic=${enc("/.well-known/mercure/subscriptions/{topic}/{subscriber}")}`),
        {
          jwt: await token({ subscribe: ["*"] }),
        },
      );
      try {
        await watcher.opened();
        leaving.close();
        await watcher.until((events) =>
          events.some((e) => {
            const doc = JSON.parse(e.data) as { topic: string; active: boolean };
            return doc.topic === "/leave" && !doc.active;
          }),
        );
      } finally {
        watcher.close();
      }
      const before = await delivered();
      await publishOk(started.endpoint, { topic: "/leave", data: "one" });
      await staying.waitFor(2);
      assert.equal(await delivered(), before + 1);
      assert.equal(leaving.events.length, 1);
    } finally {
      leaving.close();
      staying.close();
    }
  });
});
