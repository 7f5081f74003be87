import assert from "node:assert/strict";
import { once } from "node:events";
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from "node:http2";
import { after, afterEach, before, describe, test } from "node:test";
import { createParser } from "eventsource-parser";
import { MAX_STREAMS_PER_CONNECTION } from "../../src/server/hub.js";
import { type Certificate, selfSignedCertificate } from "../support/browser-support.js";
import { SECRET, type Started, startHub, token } from "../support/hub-support.js";

// Many subscribers share one HTTP/2 connection (as tabs behind one browser connection do, or
// clients behind a proxy): every stream must be answered and get every update.
const TOPIC = "/many";

/** One subscription on a shared connection, parsed with eventsource-parser. */
class Subscription {
  readonly stream: ClientHttp2Stream;
  readonly data: string[] = [];
  status = 0;
  readonly #waiters: { count: number; resolve: () => void }[] = [];

  constructor(session: ClientHttp2Session, onAnswer: (s: Subscription) => void) {
    this.stream = session.request({ ":path": `/.well-known/mercure?topic=${encodeURIComponent(TOPIC)}` });
    const parser = createParser({
      onEvent: (event) => {
        this.data.push(event.data);
        for (const w of this.#waiters.filter((w) => this.data.length >= w.count)) w.resolve();
      },
    });
    this.stream.setEncoding("utf8");
    this.stream.on("data", (text: string) => parser.feed(text));
    this.stream.on("response", (headers) => {
      this.status = Number(headers[":status"]);
      onAnswer(this);
    });
    // A stream this test closes itself ends with an error-free close; anything else fails below.
    this.stream.on("error", () => undefined);
  }

  /** Resolves once `count` events arrived. */
  received(count: number): Promise<void> {
    if (this.data.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }
}

/** Opens `count` subscriptions on `session`; `answered(n)` resolves once n of them were answered. */
function subscribeMany(session: ClientHttp2Session, count: number) {
  const answered: Subscription[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const subscriptions = Array.from(
    { length: count },
    () =>
      new Subscription(session, (s) => {
        answered.push(s);
        for (const w of waiters.filter((w) => answered.length >= w.count)) w.resolve();
      }),
  );
  return {
    subscriptions,
    answered,
    answeredCount: (n: number) =>
      answered.length >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ count: n, resolve })),
  };
}

describe("hub over HTTP/2: many streams on one connection", { timeout: 60_000 }, () => {
  let certificate: Certificate | undefined;
  let started: Started | undefined;
  let client: ClientHttp2Session | undefined;

  before(async () => {
    certificate = selfSignedCertificate();
    started = await startHub({ anonymous: true, tls: { cert: certificate.cert, key: certificate.key } });
  });
  afterEach(() => {
    client?.destroy();
    client = undefined;
  });
  after(async () => {
    await started?.hub.close();
    certificate?.dispose();
  });

  function open(): { hub: Started["hub"]; session: ClientHttp2Session; errors: Error[] } {
    if (started === undefined) throw new Error("hub not started");
    const session = connect(started.url, { rejectUnauthorized: false });
    client = session;
    const errors: Error[] = [];
    session.on("error", (error) => errors.push(error));
    return { hub: started.hub, session, errors };
  }

  test("300 subscriptions on one connection are all answered and all get every update in order", async () => {
    const { hub, session, errors } = open();
    let sessions = 0;
    const countSession = () => sessions++;
    hub.server.on("session", countSession);
    try {
      const { subscriptions, answeredCount } = subscribeMany(session, 300);
      await answeredCount(300);
      assert.deepEqual(new Set(subscriptions.map((s) => s.status)), new Set([200]));
      assert.equal(sessions, 1, "every stream shared one connection");
      for (let n = 1; n <= 3; n++) await hub.publish({ topics: [TOPIC], data: `update ${n}` });
      await Promise.all(subscriptions.map((s) => s.received(3)));
      for (const s of subscriptions) assert.deepEqual(s.data, ["update 1", "update 2", "update 3"]);
      assert.deepEqual(errors, []);
    } finally {
      hub.server.off("session", countSession);
    }
  });

  test("streams past the advertised limit wait for a free one, and the connection keeps serving the others", async () => {
    const { hub, session, errors } = open();
    await once(session, "remoteSettings");
    assert.equal(session.remoteSettings.maxConcurrentStreams, MAX_STREAMS_PER_CONNECTION);
    const extra = 20;
    const { subscriptions, answered, answeredCount } = subscribeMany(
      session,
      MAX_STREAMS_PER_CONNECTION + extra,
    );
    await answeredCount(MAX_STREAMS_PER_CONNECTION);
    // An update reaches every open stream; by the time it has, the waiting ones are still waiting.
    await hub.publish({ topics: [TOPIC], data: "first" });
    await Promise.all(answered.map((s) => s.received(1)));
    assert.equal(answered.length, MAX_STREAMS_PER_CONNECTION);
    const waiting = subscriptions.filter((s) => s.status === 0);
    assert.equal(waiting.length, extra);
    // Closing some open streams lets the waiting ones in, on the same connection.
    for (const s of answered.slice(0, extra)) s.stream.close();
    await answeredCount(MAX_STREAMS_PER_CONNECTION + extra);
    await hub.publish({ topics: [TOPIC], data: "second" });
    await Promise.all(waiting.map((s) => s.received(1)));
    for (const s of waiting) assert.deepEqual(s.data, ["second"]);
    assert.equal(session.destroyed, false);
    assert.deepEqual(errors, []);
  });
});

/** Sends one request on `session`; resolves with its response headers and whole body once it ends. */
async function exchange(
  session: ClientHttp2Session,
  headers: Record<string, string>,
  options: { readonly until?: string } = {},
): Promise<{ headers: Record<string, unknown>; body: string; stream: ClientHttp2Stream }> {
  const stream = session.request(headers, { endStream: headers[":method"] !== "POST" });
  stream.setEncoding("utf8");
  let body = "";
  const [response] = (await once(stream, "response")) as [Record<string, unknown>];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (text: string) => {
      body += text;
      if (options.until !== undefined && body.includes(options.until)) resolve();
    });
    stream.on("end", () => resolve());
    stream.on("error", reject);
  });
  return { headers: response, body, stream };
}

describe("hub over HTTP/2: subscriptions are served on the stream itself", { timeout: 60_000 }, () => {
  const ORIGIN = "https://app.test";
  let certificate: Certificate | undefined;
  let started: Started | undefined;
  let session: ClientHttp2Session | undefined;
  /** Requests that went through node:http2's compatibility API (the hub's `handle`). */
  let compatRequests: string[] = [];
  const countRequest = (req: { url: string }) => compatRequests.push(req.url);

  before(async () => {
    certificate = selfSignedCertificate();
    started = await startHub({
      anonymous: true,
      subscriberKey: { alg: "HS256", secret: SECRET },
      cors: [ORIGIN],
      tls: { cert: certificate.cert, key: certificate.key },
    });
    started.hub.server.on("request", countRequest);
    session = connect(started.url, { rejectUnauthorized: false });
    session.on("error", () => undefined);
  });
  afterEach(() => {
    compatRequests = [];
  });
  after(async () => {
    session?.destroy();
    await started?.hub.close();
    certificate?.dispose();
  });

  const path = (query: string) => `/.well-known/mercure?${query}`;

  test("a subscription gets the hub's headers, replays after Last-Event-ID and goes live, with no request object", async () => {
    if (started === undefined || session === undefined) throw new Error("hub not started");
    const topic = "https://example.test/h2/replay";
    const ids = [];
    for (const data of ["one", "two", "three"])
      ids.push((await started.hub.publish({ topics: [topic], data })).id);
    const sub = session.request({
      ":path": path(`topic=${encodeURIComponent(topic)}`),
      "last-event-id": String(ids[0]),
      origin: ORIGIN,
    });
    sub.setEncoding("utf8");
    let body = "";
    sub.on("data", (text: string) => {
      body += text;
    });
    const [headers] = (await once(sub, "response")) as [Record<string, unknown>];
    assert.equal(headers[":status"], 200);
    assert.equal(headers["content-type"], "text/event-stream; charset=utf-8");
    assert.equal(headers["mercure-last-event-id"], ids[0]);
    assert.equal(headers["access-control-allow-origin"], ORIGIN);
    assert.match(String(headers.link), /rel="mercure"/);
    while (!body.includes("data: three")) await new Promise((resolve) => setTimeout(resolve, 5));
    await started.hub.publish({ topics: [topic], data: "four" });
    while (!body.includes("data: four")) await new Promise((resolve) => setTimeout(resolve, 5));
    const data = body
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => line.slice(6));
    assert.deepEqual(data, ["two", "three", "four"]);
    sub.close();
    // The publishes went through the compatibility API, the subscription did not.
    assert.ok(
      compatRequests.every((url) => !url.includes("topic=")),
      compatRequests.join(", "),
    );
  });

  test("a refused subscription is answered on its stream with the status, reason and headers", async () => {
    if (session === undefined) throw new Error("hub not started");
    const missing = await exchange(session, { ":path": path("nothing=1"), origin: ORIGIN });
    assert.equal(missing.headers[":status"], 400);
    assert.match(missing.body, /topic/);
    assert.equal(missing.headers["access-control-allow-origin"], ORIGIN);
    assert.match(String(missing.headers.link), /rel="mercure"/);

    const forged = await token(
      { subscribe: ["*"] },
      { key: new TextEncoder().encode("another-key-another-key-another-key!") },
    );
    const refused = await exchange(session, { ":path": path("topic=x"), authorization: `Bearer ${forged}` });
    assert.equal(refused.headers[":status"], 401);
    assert.match(String(refused.headers["www-authenticate"]), /invalid_token/);
    assert.ok(refused.body.length > 1);
    assert.deepEqual(compatRequests, []);
  });

  test("HEAD gets the headers only; polls and other routes still go through the compatibility API", async () => {
    if (started === undefined || session === undefined) throw new Error("hub not started");
    const head = await exchange(session, { ":method": "HEAD", ":path": path("topic=x") });
    assert.equal(head.headers[":status"], 200);
    assert.equal(head.headers["content-type"], "text/event-stream; charset=utf-8");
    assert.equal(head.body, "");
    const topic = "https://example.test/h2/poll";
    await started.hub.publish({ topics: [topic], data: "polled" });
    const poll = await exchange(session, {
      ":path": path(`topic=${encodeURIComponent(topic)}&poll=1&lastEventId=earliest`),
    });
    assert.equal(poll.headers[":status"], 200);
    assert.match(poll.body, /polled/);
    const health = await exchange(session, { ":path": "/healthz" });
    assert.equal(health.headers[":status"], 200);
    assert.ok(compatRequests.some((url) => url.includes("poll=1")));
    assert.ok(compatRequests.includes("/healthz"));
    assert.ok(
      compatRequests.every((url) => !url.startsWith(path("topic=x"))),
      compatRequests.join(", "),
    );
  });

  test("the hub's shutdown ends a subscription on its stream with a retry", async () => {
    const certificate = selfSignedCertificate();
    const own = await startHub({ anonymous: true, tls: { cert: certificate.cert, key: certificate.key } });
    const client = connect(own.url, { rejectUnauthorized: false });
    client.on("error", () => undefined);
    try {
      const sub = client.request({ ":path": path("topic=bye") });
      sub.setEncoding("utf8");
      let body = "";
      sub.on("data", (text: string) => {
        body += text;
      });
      await once(sub, "response");
      const ended = once(sub, "end");
      await own.hub.close({ retryMs: 1234 });
      await ended;
      assert.match(body, /retry: 1234\n\n$/);
    } finally {
      client.destroy();
      certificate.dispose();
    }
  });
});
