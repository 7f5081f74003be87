import assert from "node:assert/strict";
import { once } from "node:events";
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from "node:http2";
import { after, afterEach, before, describe, test } from "node:test";
import { createParser } from "eventsource-parser";
import { MAX_STREAMS_PER_CONNECTION } from "../../src/server/hub.js";
import { type Certificate, selfSignedCertificate } from "../support/browser-support.js";
import { type Started, startHub } from "../support/hub-support.js";

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
