// Mercure publish and subscribe over real sockets: `eventsource` and `curl -N` subscribers, fetch publishers.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { decodeHeaderId, encodeHeaderId } from "ssekit/protocol";
import { Collector, publish, publishOk, readStream, type Started, startHub } from "../support/hub-support.js";

let started: Started;
before(async () => {
  started = await startHub({ anonymous: true });
});
after(() => started.hub.close());

const sub = (query: string) => `${started.endpoint}?${query}`;
const topicUrl = (name: string) => `https://example.com/${name}`;

describe("publish", () => {
  test("answers 200 text/plain with a urn:uuid id when none is given, or the publisher's id", async () => {
    const response = await publish(started.endpoint, { topic: topicUrl("p1"), data: "x" });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
    assert.match(await response.text(), /^urn:uuid:[0-9a-f-]{36}$/);
    assert.equal(
      await publishOk(started.endpoint, { topic: topicUrl("p1"), data: "y", id: "my-id-1" }),
      "my-id-1",
    );
  });

  const bad: [string, Record<string, string | string[]>, number, RegExp][] = [
    ["a missing topic", { data: "x" }, 400, /topic/],
    ["an empty topic", { topic: "" }, 400, /topic/],
    ["LF in id", { topic: "/t", id: "a\nb" }, 400, /id/],
    ["CR in type", { topic: "/t", type: "a\rb" }, 400, /type/],
    ["a control character in id", { topic: "/t", id: "a\u0001" }, 400, /id/],
    ["a retry that is not an integer", { topic: "/t", retry: "1.5" }, 400, /retry/],
    ["two ids", { topic: "/t", id: ["a", "b"] }, 400, /id/],
  ];
  for (const [what, fields, status, reason] of bad) {
    test(`refuses ${what} with ${status} and a one-line reason`, async () => {
      const response = await publish(started.endpoint, fields);
      assert.equal(response.status, status);
      const text = await response.text();
      assert.match(text, reason);
      assert.equal(text.trimEnd().includes("\n"), false);
    });
  }

  test("a retry of the same update under its id is acknowledged again and not delivered twice", async () => {
    const collector = new Collector(`${started.endpoint}?topic=/retried`, { types: ["t"] });
    try {
      await collector.opened();
      const fields = { topic: "/retried", id: "retry-1", data: "same", type: "t" };
      assert.equal(await publishOk(started.endpoint, fields), "retry-1");
      assert.equal(await publishOk(started.endpoint, fields), "retry-1");
      await publishOk(started.endpoint, { topic: "/retried", data: "next" });
      await collector.until((events) => events.some((e) => e.data === "next"));
      assert.deepEqual(
        collector.events.map((e) => [e.id, e.data]),
        [
          ["retry-1", "same"],
          [collector.events[1]?.id, "next"],
        ],
      );
    } finally {
      collector.close();
    }
  });

  test("refuses a different update under a reused id with 409", async () => {
    await publishOk(started.endpoint, { topic: "/t", id: "once", data: "first" });
    const other = await publish(started.endpoint, { topic: "/t", id: "once", data: "second" });
    assert.equal(other.status, 409);
    assert.match(await other.text(), /already used by a different update/);
    const topic = await publish(started.endpoint, { topic: "/elsewhere", id: "once", data: "first" });
    assert.equal(topic.status, 409);
  });

  test("refuses a body over the limit with 413 and a wrong content type with 415", async () => {
    const small = await startHub({ maxBodyBytes: 1024 });
    try {
      const big = await publish(small.endpoint, { topic: "/t", data: "x".repeat(5000) });
      assert.equal(big.status, 413);
      const jwt = await (await import("../support/hub-support.js")).publisherToken();
      const json = await fetch(small.endpoint, {
        method: "POST",
        headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
        body: JSON.stringify({ topic: "/t" }),
      });
      assert.equal(json.status, 415);
      assert.match(await json.text(), /x-www-form-urlencoded/);
    } finally {
      await small.hub.close();
    }
  });

  test("answers 405 for other methods on the endpoint", async () => {
    const response = await fetch(started.endpoint, { method: "PUT" });
    assert.equal(response.status, 405);
    assert.match(response.headers.get("allow") ?? "", /POST/);
  });
});

describe("subscribe", () => {
  test("delivers id, type, multi-line data to an eventsource subscriber", async () => {
    const c = new Collector(sub(`topic=${encodeURIComponent(topicUrl("s1"))}`), { types: ["note"] });
    try {
      await c.opened();
      const id = await publishOk(started.endpoint, {
        topic: topicUrl("s1"),
        data: "line 1\nline 2",
        type: "note",
      });
      await c.waitFor(1);
      assert.deepEqual(c.events[0], { type: "note", data: "line 1\nline 2", id });
    } finally {
      c.close();
    }
  });

  test("a URI template selector receives matching topics only", async () => {
    const c = new Collector(sub(`topic=${encodeURIComponent("https://example.com/books/{id}")}`));
    try {
      await c.opened();
      await publishOk(started.endpoint, { topic: "https://example.com/books/1/reviews", data: "no" });
      await publishOk(started.endpoint, { topic: "https://example.com/books/1", data: "yes" });
      await c.waitFor(1);
      assert.equal(c.events[0]?.data, "yes");
    } finally {
      c.close();
    }
  });

  test("1.0 match (exact) and match_urlpattern selectors work on the same endpoint", async () => {
    const exact = new Collector(sub(`match=${encodeURIComponent("https://example.com/m/{x}")}`));
    const pattern = new Collector(sub(`match_urlpattern=${encodeURIComponent("https://example.com/m/:x")}`));
    try {
      await Promise.all([exact.opened(), pattern.opened()]);
      await publishOk(started.endpoint, { topic: "https://example.com/m/7", data: "seven" });
      await publishOk(started.endpoint, { topic: "https://example.com/m/{x}", data: "literal" });
      await Promise.all([exact.waitFor(1), pattern.waitFor(2)]);
      assert.deepEqual(
        exact.events.map((e) => e.data),
        ["literal"],
      );
      assert.deepEqual(
        pattern.events.map((e) => e.data),
        ["seven", "literal"],
      );
    } finally {
      exact.close();
      pattern.close();
    }
  });

  test("an update with several topics reaches subscribers of any of them", async () => {
    const c = new Collector(sub("topic=/multi/second"));
    try {
      await c.opened();
      await publishOk(started.endpoint, { topic: ["/multi/first", "/multi/second"], data: "both" });
      await c.waitFor(1);
      assert.equal(c.events[0]?.data, "both");
    } finally {
      c.close();
    }
  });

  test("refuses a subscription without selectors, and an invalid URL Pattern, with 400", async () => {
    const none = await fetch(started.endpoint);
    assert.equal(none.status, 400);
    assert.match(await none.text(), /topic/);
    const group = await fetch(sub(`match_urlpattern=${encodeURIComponent("/a/(unclosed")}`));
    assert.equal(group.status, 400);
    assert.match(await group.text(), /URL Pattern/);
  });

  test("HEAD answers a subscription's headers and ends without subscribing", async () => {
    const own = await startHub({ anonymous: true });
    try {
      const id = await publishOk(own.endpoint, { topic: "/head", data: "x" });
      const head = await fetch(`${own.endpoint}?topic=/head&lastEventID=no-such-id`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.match(head.headers.get("content-type") ?? "", /^text\/event-stream/);
      assert.equal(head.headers.get("last-event-id"), id);
      assert.equal(head.headers.get("mercure-last-event-id"), "earliest");
      assert.equal(await head.text(), "");
      const metrics = await (await fetch(`${own.url}/metrics`)).text();
      assert.match(metrics, /^ssekit_hub_connections 0$/m);
      assert.equal((await fetch(own.endpoint, { method: "HEAD" })).status, 400);
    } finally {
      await own.hub.close();
    }
  });

  test("curl -N receives the stream", { timeout: 15_000 }, async () => {
    const curl = spawn("curl", ["-sN", sub("topic=/curl")], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      let out = "";
      const got = new Promise<void>((resolve) => {
        curl.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes("data: via curl")) resolve();
        });
      });
      // The first bytes (":\nretry") say the stream is open.
      await new Promise<void>((resolve) => curl.stdout.once("data", () => resolve()));
      const id = await publishOk(started.endpoint, { topic: "/curl", data: "via curl" });
      await got;
      assert.match(out, new RegExp(`id: ${id}\\ndata: via curl\\n\\n`));
    } finally {
      curl.kill();
    }
  });
});

describe("replay", () => {
  test("Last-Event-ID header, last_event_id and lastEventID replay what followed, with reconciliation headers", async () => {
    const first = await publishOk(started.endpoint, { topic: "/replay", data: "1" });
    const second = await publishOk(started.endpoint, { topic: "/replay", data: "2" });
    const third = await publishOk(started.endpoint, { topic: "/replay", data: "3" });
    for (const [query, headers] of [
      ["topic=/replay", { "last-event-id": first }],
      [`topic=/replay&last_event_id=${encodeURIComponent(first)}`, {}],
      [`topic=/replay&lastEventID=${encodeURIComponent(first)}`, {}],
    ] as const) {
      const { response, text } = await readStream(sub(query), headers, (t) => t.includes("data: 3"));
      assert.equal(response.headers.get("mercure-last-event-id"), first);
      assert.ok(response.headers.get("last-event-id"));
      assert.match(text, new RegExp(`id: ${second}\\ndata: 2\\n\\nid: ${third}\\ndata: 3\\n\\n`));
      assert.doesNotMatch(text, /data: 1\n/);
    }
  });

  test("earliest replays the whole history; an unknown id replays what is kept and says earliest", async () => {
    const hub = await startHub({ anonymous: true });
    try {
      await publishOk(hub.endpoint, { topic: "/e", data: "a" });
      await publishOk(hub.endpoint, { topic: "/e", data: "b" });
      const all = await readStream(`${hub.endpoint}?topic=/e&lastEventID=earliest`, {}, (t) =>
        t.includes("data: b"),
      );
      assert.match(all.text, /data: a\n\n.*data: b\n\n/s);
      const unknown = await readStream(`${hub.endpoint}?topic=/e`, { "last-event-id": "nope" }, (t) =>
        t.includes("data: b"),
      );
      assert.equal(unknown.response.headers.get("mercure-last-event-id"), "earliest");
      assert.match(unknown.text, /data: a\n\n.*data: b\n\n/s);
    } finally {
      await hub.hub.close();
    }
  });

  test("a non-ASCII published id: streams still open, headers carry its UTF-8 bytes, clients resume from it", async () => {
    const hub = await startHub({ anonymous: true });
    try {
      const snowman = await publishOk(hub.endpoint, { topic: "/u", data: "a", id: "\u2603\u20ac" });
      await publishOk(hub.endpoint, { topic: "/u", data: "b", id: "caf\u00e9" });
      assert.equal(snowman, "\u2603\u20ac");
      // The Last-Event-ID bytes Chromium's EventSource sends for this id (ssekit/client sends the same).
      const resumed = await readStream(
        `${hub.endpoint}?topic=/u`,
        { "last-event-id": encodeHeaderId(snowman) },
        (t) => t.includes("data: b"),
      );
      assert.equal(resumed.response.status, 200);
      assert.equal(decodeHeaderId(resumed.response.headers.get("mercure-last-event-id") ?? ""), snowman);
      assert.equal(decodeHeaderId(resumed.response.headers.get("last-event-id") ?? ""), "caf\u00e9");
      assert.doesNotMatch(resumed.text, /data: a\n/);
      assert.match(resumed.text, /id: caf\u00e9\ndata: b\n\n/);
      const poll = await fetch(`${hub.endpoint}?topic=/u&poll=1&timeout=0`, {
        headers: { "last-event-id": encodeHeaderId(snowman) },
      });
      assert.deepEqual((await poll.json()).events, [{ type: "message", data: "b", id: "caf\u00e9" }]);
    } finally {
      await hub.hub.close();
    }
  });

  test(
    "a subscriber joining during a publishing burst gets every update once, in order",
    { timeout: 30_000 },
    async () => {
      const hub = await startHub({ anonymous: true, store: { kind: "sqlite", path: ":memory:" } });
      const total = 300;
      const ids: string[] = [];
      const publishing = (async () => {
        for (let i = 0; i < total; i++)
          ids.push(await publishOk(hub.endpoint, { topic: "/burst", data: String(i) }));
      })();
      // Join once some updates exist, while the rest are still being published.
      while (ids.length < 50) await new Promise((resolve) => setImmediate(resolve));
      const c = new Collector(`${hub.endpoint}?topic=/burst&lastEventID=earliest`);
      try {
        await publishing;
        await c.waitFor(total);
        assert.deepEqual(
          c.events.map((e) => e.data),
          Array.from({ length: total }, (_, i) => String(i)),
        );
        assert.deepEqual(
          c.events.map((e) => e.id),
          ids,
        );
      } finally {
        c.close();
        await hub.hub.close();
      }
    },
  );
});
