// The subscriptions API on a hub with hundreds of thousands of subscriptions across its nodes: the
// whole list is answered (written as it is read), and the hub answers other requests meanwhile.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SubscriptionDocument } from "../../src/index.js";
import { LocalTransport, MemoryStore } from "../../src/index.js";
import { startHub, token } from "../support/hub-support.js";

const ELSEWHERE = 250_000;

/** A local transport whose other nodes (as a Redis transport would report them) hold `count` subscriptions. */
class CrowdedTransport extends LocalTransport {
  readonly #elsewhere: SubscriptionDocument[];
  constructor(count: number) {
    super(new MemoryStore({ maxEvents: 1_000, maxAgeMs: 60_000 }));
    this.#elsewhere = Array.from({ length: count }, (_, i) => ({
      id: `/.well-known/mercure/subscriptions/t${i % 100}/s${i}`,
      type: "Subscription" as const,
      topic: `t${i % 100}`,
      subscriber: `s${i}`,
      active: true,
    }));
  }
  override async subscriptionsElsewhere(): Promise<readonly SubscriptionDocument[]> {
    return this.#elsewhere;
  }
}

test(
  "250,000 subscriptions elsewhere are all listed, and a health check made meanwhile is answered first",
  { timeout: 60_000 },
  async () => {
    const started = await startHub({ anonymous: true, transport: new CrowdedTransport(ELSEWHERE) });
    const controller = new AbortController();
    try {
      const local = await fetch(`${started.endpoint}?topic=${encodeURIComponent("/here")}`, {
        signal: controller.signal,
      });
      assert.equal(local.status, 200);
      const jwt = await token({ subscribe: ["/.well-known/mercure/subscriptions{/topic}{/subscriber}"] });
      const order: string[] = [];
      const list = fetch(`${started.url}/.well-known/mercure/subscriptions`, {
        headers: { authorization: `Bearer ${jwt}` },
      }).then(async (response) => {
        const text = await response.text();
        order.push("list");
        return { response, text };
      });
      // Sent once the list has started: the hub reads it between the list's slices.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const health = fetch(`${started.url}/healthz`).then(async (response) => {
        await response.text();
        order.push("health");
        return response.status;
      });
      const [{ response, text }, healthStatus] = await Promise.all([list, health]);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/ld+json; charset=utf-8");
      assert.equal(healthStatus, 200);
      const body = JSON.parse(text) as {
        type: string;
        lastEventID: string;
        subscriptions: SubscriptionDocument[];
      };
      assert.equal(body.type, "Subscriptions");
      assert.equal(body.subscriptions.length, ELSEWHERE + 1);
      assert.equal(body.subscriptions[0]?.topic, "/here");
      assert.equal(body.subscriptions.at(-1)?.subscriber, `s${ELSEWHERE - 1}`);
      assert.deepEqual(order, ["health", "list"]);

      const one = await fetch(`${started.url}/.well-known/mercure/subscriptions/t7/s${ELSEWHERE - 93}`, {
        headers: { authorization: `Bearer ${jwt}` },
      });
      assert.equal(one.status, 200);
      assert.equal(((await one.json()) as SubscriptionDocument).subscriber, `s${ELSEWHERE - 93}`);
    } finally {
      controller.abort();
      await started.hub.close();
    }
  },
);
