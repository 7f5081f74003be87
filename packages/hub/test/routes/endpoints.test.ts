// The hub's other endpoints over real sockets: subscriptions API and events, polling, CORS and
// discovery, health and metrics, graceful close, and HTTP/2 over TLS.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:http2";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import {
  Collector,
  publisherToken,
  publishOk,
  readStream,
  type Started,
  startHub,
  token,
} from "../support/hub-support.js";
import { selfSignedCertificate } from "../support/tls-support.js";

let started: Started;
before(async () => {
  started = await startHub({ anonymous: true, cors: ["https://app.example.com"] });
});
after(() => started.hub.close());

describe("subscriptions API and events", () => {
  test("lists active subscriptions as JSON-LD to tokens allowed to see them", async () => {
    const watcher = new Collector(`${started.endpoint}?topic=/room/1`);
    try {
      await watcher.opened();
      const jwt = await token({ subscribe: ["/.well-known/mercure/subscriptions{/topic}{/subscriber}"] });
      const response = await fetch(
        `${started.url}/.well-known/mercure/subscriptions/${encodeURIComponent("/room/1")}`,
        {
          headers: { authorization: `Bearer ${jwt}` },
        },
      );
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /application\/ld\+json/);
      const body = (await response.json()) as {
        type: string;
        subscriptions: { topic: string; subscriber: string; id: string }[];
      };
      assert.equal(body.type, "Subscriptions");
      assert.equal(body.subscriptions.length, 1);
      const [subscription] = body.subscriptions;
      assert.equal(subscription?.topic, "/room/1");
      assert.match(subscription?.subscriber ?? "", /^urn:uuid:/);

      const one = await fetch(`${started.url}${subscription?.id}`, {
        headers: { authorization: `Bearer ${jwt}` },
      });
      assert.equal(((await one.json()) as { type: string }).type, "Subscription");

      const blind = await token({ subscribe: ["/somewhere/else"] });
      const hidden = await fetch(`${started.url}/.well-known/mercure/subscriptions`, {
        headers: { authorization: `Bearer ${blind}` },
      });
      assert.deepEqual(((await hidden.json()) as { subscriptions: unknown[] }).subscriptions, []);
      const none = await fetch(`${started.url}/.well-known/mercure/subscriptions`);
      assert.equal(none.status, 401);
    } finally {
      watcher.close();
    }
  });

  test("publishes private subscription events when a subscriber comes and goes", async () => {
    const jwt = await token({ subscribe: ["/.well-known/mercure/subscriptions{/topic}{/subscriber}"] });
    const events = new Collector(
      `${started.endpoint}?topic=${encodeURIComponent("/.well-known/mercure/subscriptions{/topic}{/subscriber}")}`,
      {
        jwt,
      },
    );
    const anonymousEvents = new Collector(
      `${started.endpoint}?topic=${encodeURIComponent("/.well-known/mercure/subscriptions{/topic}{/subscriber}")}`,
    );
    try {
      await Promise.all([events.opened(), anonymousEvents.opened()]);
      const guest = new Collector(`${started.endpoint}?topic=/presence`);
      await guest.opened();
      const presence = () =>
        events.events
          .map((e) => JSON.parse(e.data) as { topic: string; active: boolean; type: string })
          .filter((d) => d.topic === "/presence");
      await events.until(() => presence().length === 1);
      guest.close();
      await events.until(() => presence().length === 2);
      const docs = presence();
      assert.deepEqual(
        docs.map((d) => [d.type, d.topic, d.active]),
        [
          ["Subscription", "/presence", true],
          ["Subscription", "/presence", false],
        ],
      );
      // The anonymous watcher's own subscription is an event too, but private: it saw none.
      assert.equal(anonymousEvents.events.length, 0);
    } finally {
      events.close();
      anonymousEvents.close();
    }
  });
});

describe("polling", () => {
  const poll = async (query: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${started.endpoint}?poll=1&${query}`, { headers });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /application\/json/);
    return (await response.json()) as {
      events: { type: string; data: string; id: string }[];
      lastEventId: string;
      reset?: boolean;
    };
  };

  test("a first poll answers at once with no events and the current last id; the next returns what followed", async () => {
    const before = await publishOk(started.endpoint, { topic: "/poll/a", data: "old" });
    const first = await poll("topic=/poll/a");
    assert.deepEqual(first.events, []);
    assert.equal(first.lastEventId, before);
    const id = await publishOk(started.endpoint, { topic: "/poll/a", data: "new", type: "note" });
    const next = await poll(`topic=/poll/a&lastEventID=${encodeURIComponent(first.lastEventId)}&timeout=0`);
    assert.deepEqual(next.events, [{ type: "note", data: "new", id }]);
    assert.equal(next.lastEventId, id);
  });

  test("a long poll is answered by the next matching update", { timeout: 15_000 }, async () => {
    const start = await poll("topic=/poll/b");
    const pending = poll(`topic=/poll/b&timeout=10000`, { "last-event-id": start.lastEventId });
    // Whether the hub has read history yet or not, exactly the matching update answers the poll.
    await publishOk(started.endpoint, { topic: "/poll/other", data: "not this" });
    const id = await publishOk(started.endpoint, { topic: "/poll/b", data: "live" });
    const answer = await pending;
    assert.deepEqual(
      answer.events.map((e) => [e.data, e.id]),
      [["live", id]],
    );
  });

  test("an unknown last id answers with what is kept and reset: true", async () => {
    await publishOk(started.endpoint, { topic: "/poll/c", data: "kept" });
    const answer = await poll("topic=/poll/c&lastEventID=forgotten&timeout=0");
    assert.equal(answer.reset, true);
    assert.ok(answer.events.some((e) => e.data === "kept"));
  });

  test("private updates are not polled without rights, and a bad timeout is 400", async () => {
    await publishOk(started.endpoint, { topic: "/poll/d", data: "secret", private: "on" });
    const answer = await poll("topic=/poll/d&lastEventID=earliest&timeout=0");
    assert.equal(answer.events.length, 0);
    const bad = await fetch(`${started.endpoint}?poll=1&topic=/poll/d&timeout=soon`);
    assert.equal(bad.status, 400);
  });
});

describe("HTTP edge", () => {
  test("every response carries the discovery Link header", async () => {
    for (const path of ["/healthz", "/.well-known/mercure", "/nope"]) {
      const response = await fetch(`${started.url}${path}`);
      await response.text();
      assert.equal(response.headers.get("link"), '</.well-known/mercure>; rel="mercure"');
    }
  });

  test("CORS allows configured origins with credentials and answers preflights; others get no CORS headers", async () => {
    const preflight = await fetch(started.endpoint, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization",
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.example.com");
    assert.equal(preflight.headers.get("access-control-allow-credentials"), "true");
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /Authorization/);
    const { response } = await readStream(
      `${started.endpoint}?topic=/cors`,
      { origin: "https://app.example.com" },
      () => true,
    );
    assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example.com");
    assert.match(response.headers.get("access-control-expose-headers") ?? "", /Last-Event-ID/);
    const other = await fetch(`${started.url}/healthz`, { headers: { origin: "https://evil.example.com" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    const otherPreflight = await fetch(started.endpoint, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example.com" },
    });
    assert.equal(otherPreflight.status, 403);
  });

  test("CORS * allows any other origin without credentials; listed origins keep them", async () => {
    const open = await startHub({ anonymous: true, cors: ["*", "https://app.example.com"] });
    try {
      const any = await fetch(`${open.endpoint}?topic=/cors&poll=1&timeout=0`, {
        headers: { origin: "https://elsewhere.example" },
      });
      assert.equal(any.headers.get("access-control-allow-origin"), "*");
      assert.equal(any.headers.get("access-control-allow-credentials"), null);
      const listed = await fetch(`${open.endpoint}?topic=/cors&poll=1&timeout=0`, {
        headers: { origin: "https://app.example.com" },
      });
      assert.equal(listed.headers.get("access-control-allow-origin"), "https://app.example.com");
      assert.equal(listed.headers.get("access-control-allow-credentials"), "true");
      // A cookie token from any site is not a publish: * does not extend to publish origins.
      const cookiePublish = await fetch(open.endpoint, {
        method: "POST",
        headers: {
          origin: "https://elsewhere.example",
          cookie: `mercureAuthorization=${await publisherToken()}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: "topic=/cors&data=forged",
      });
      assert.equal(cookiePublish.status, 403);
    } finally {
      await open.hub.close();
    }
  });

  test("/healthz says ok and /metrics counts publishes and deliveries in Prometheus format", async () => {
    assert.equal(await (await fetch(`${started.url}/healthz`)).text(), "ok\n");
    const c = new Collector(`${started.endpoint}?topic=/metrics`);
    try {
      await c.opened();
      await publishOk(started.endpoint, { topic: "/metrics", data: "m" });
      await c.waitFor(1);
      const text = await (await fetch(`${started.url}/metrics`)).text();
      assert.match(text, /^ssekit_hub_connections [1-9]/m);
      assert.match(text, /^ssekit_hub_published_total [1-9]/m);
      assert.match(text, /^ssekit_hub_delivered_total [1-9]/m);
      assert.match(text, /^ssekit_hub_publish_duration_seconds_count [1-9]/m);
    } finally {
      c.close();
    }
  });

  test("unknown paths are 404 with a one-line reason", async () => {
    const response = await fetch(`${started.url}/nope`);
    assert.equal(response.status, 404);
    assert.equal(await response.text(), "not found: /nope\n");
  });
});

describe("lifecycle", () => {
  test(
    "a subscriber that does not read is disconnected instead of buffering without bound",
    { timeout: 30_000 },
    async () => {
      const hub = await startHub({ anonymous: true, maxBufferedBytes: 65_536 });
      const watchTopic = "/.well-known/mercure/subscriptions{/topic}{/subscriber}";
      const jwt = await token({ subscribe: [watchTopic] });
      const watcher = new Collector(`${hub.endpoint}?topic=${encodeURIComponent(watchTopic)}`, { jwt });
      const port = new URL(hub.url).port;
      const slow = connectTcp(Number(port), "127.0.0.1");
      const connected = new Promise<void>((resolve) => slow.once("connect", resolve));
      try {
        await watcher.opened();
        await connected;
        slow.write(`GET /.well-known/mercure?topic=/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        slow.pause(); // never read: the kernel buffers fill, then the hub's.
        const states = () =>
          watcher.events
            .map((e) => JSON.parse(e.data) as { topic: string; active: boolean })
            .filter((d) => d.topic === "/slow");
        await watcher.until(() => states().length === 1);
        const gone = watcher.until(() => states().some((d) => !d.active));
        let disconnected = false;
        void gone.then(() => {
          disconnected = true;
        });
        const chunk = "x".repeat(65_536);
        for (let i = 0; i < 1_000 && !disconnected; i++) {
          await hub.hub.publish({ topics: ["/slow"], data: chunk });
          await new Promise((resolve) => setImmediate(resolve)); // let sockets and the watcher run
        }
        await gone;
        const metrics = await (await fetch(`${hub.url}/metrics`)).text();
        assert.match(metrics, /^ssekit_hub_connections 1$/m); // only the watcher is left
      } finally {
        slow.destroy();
        watcher.close();
        await hub.hub.close();
      }
    },
  );

  test(
    "close() answers a held poll at once, with no events and where it stood",
    { timeout: 15_000 },
    async () => {
      const hub = await startHub({ anonymous: true });
      try {
        const id = await publishOk(hub.endpoint, { topic: "/held", data: "seen" });
        const received = new Promise((resolve) => hub.hub.server.once("request", resolve));
        const held = fetch(`${hub.endpoint}?poll=1&topic=/held&lastEventID=${id}&timeout=30000`);
        await received;
        // A few turns of the event loop: the poll has read history and waits.
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        const closing = hub.hub.close();
        const response = await held;
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), {
          events: [],
          lastEventId: id,
          retry: hub.hub.config.retryMs,
        });
        await closing;
      } finally {
        await hub.hub.close();
      }
    },
  );

  test(
    "close() ends open streams with a retry hint, and history in SQLite survives a restart",
    { timeout: 15_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "ssekit-hub-close-"));
      const path = join(dir, "hub.db");
      try {
        const first = await startHub({ anonymous: true, store: { kind: "sqlite", path } });
        const response = await fetch(`${first.endpoint}?topic=/life`);
        const id = await publishOk(first.endpoint, { topic: "/life", data: "kept" });
        const closing = first.hub.close({ retryMs: 1234 });
        const text = await response.text();
        await closing;
        assert.match(text, /retry: 1234\n/);
        const second = await startHub({ anonymous: true, store: { kind: "sqlite", path } });
        try {
          const replay = await readStream(`${second.endpoint}?topic=/life&lastEventID=earliest`, {}, (t) =>
            t.includes("data: kept"),
          );
          assert.match(replay.text, new RegExp(`id: ${id}\\ndata: kept`));
        } finally {
          await second.hub.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test(
    "a publish admitted before close() is answered, and its update survives in SQLite",
    { timeout: 15_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "ssekit-hub-inflight-"));
      const path = join(dir, "hub.db");
      try {
        const first = await startHub({ store: { kind: "sqlite", path } });
        const body = "topic=/inflight&data=admitted";
        const socket = connectTcp(Number(new URL(first.url).port), "127.0.0.1");
        await new Promise<void>((resolve) => socket.once("connect", resolve));
        let answer = "";
        socket.setEncoding("utf8");
        socket.on("data", (chunk: string) => {
          answer += chunk;
        });
        const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
        // The hub's own request listener runs first: once this one runs, the publish is admitted.
        const admitted = new Promise((resolve) => first.hub.server.once("request", resolve));
        socket.write(
          `POST /.well-known/mercure HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${await publisherToken()}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
        );
        // The hub has the request and waits for the rest of its body when the shutdown starts.
        await admitted;
        const closing = first.hub.close();
        socket.write(body.slice(10));
        await ended;
        await closing;
        assert.match(answer, /^HTTP\/1\.1 200 /);
        const id = answer.slice(answer.indexOf("\r\n\r\n") + 4).trim();
        assert.match(id, /^urn:uuid:/);
        const second = await startHub({ anonymous: true, store: { kind: "sqlite", path } });
        try {
          const replay = await readStream(
            `${second.endpoint}?topic=/inflight&lastEventID=earliest`,
            {},
            (t) => t.includes("data: admitted"),
          );
          assert.match(replay.text, new RegExp(`id: ${id}\\ndata: admitted`));
        } finally {
          await second.hub.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test("with TLS the hub speaks HTTP/2 and still serves HTTP/1.1", { timeout: 20_000 }, async () => {
    const certificate = selfSignedCertificate();
    try {
      const tls = { cert: certificate.cert, key: certificate.key };
      const hub = await startHub({ anonymous: true, tls });
      const client = connect(hub.url, { rejectUnauthorized: false });
      try {
        const stream = client.request({ ":path": "/.well-known/mercure?topic=/h2" });
        const headers = await new Promise<Record<string, unknown>>((resolve) =>
          stream.once("response", resolve),
        );
        assert.equal(headers[":status"], 200);
        assert.equal(headers["content-type"], "text/event-stream; charset=utf-8");
        let text = "";
        const got = new Promise<void>((resolve) => {
          stream.on("data", (chunk: Buffer) => {
            text += chunk.toString();
            if (text.includes("data: over h2")) resolve();
          });
        });
        // Not execFileSync: the hub runs in this process and must keep serving while curl waits.
        const http1 = await promisify(execFile)("curl", [
          "-sk",
          "--http1.1",
          "-w",
          " %{http_version}",
          `${hub.url}/healthz`,
        ]);
        assert.equal(http1.stdout, "ok\n 1.1");
        // fetch refuses the self-signed certificate: publish from inside the process.
        await hub.hub.publish({ topics: ["/h2"], data: "over h2" });
        await got;
        stream.close();
      } finally {
        client.close();
        await hub.hub.close();
      }
    } finally {
      certificate.dispose();
    }
  });
});
