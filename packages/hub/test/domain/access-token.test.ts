// Mercure 1.0 access tokens (RFC 9068 `at+jwt` with RFC 9396 `authorization_details`) over real
// sockets: rights from details, match types, foreign details ignored, malformed details refused,
// the 1.0 cookie name, and both token generations on one hub.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import {
  Collector,
  publish,
  publishOk,
  readStream,
  type Started,
  secretKey,
  startHub,
  token,
} from "../support/hub-support.js";

const DETAIL = "https://mercure.rocks/authorization-detail";

interface Grant {
  readonly match: string;
  readonly match_type?: string;
}

/** An access token as a Mercure 1.0 authorization server mints it. */
function accessToken(details: readonly unknown[]): Promise<string> {
  return new SignJWT({ authorization_details: details, client_id: "tests" })
    .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
    .setIssuer("https://auth.example.com")
    .setAudience("https://hub.example.com/.well-known/mercure")
    .setSubject("user-1")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(secretKey);
}

const detail = (actions: readonly string[], topics: readonly (Grant | null)[], payload?: unknown) => ({
  type: DETAIL,
  actions,
  topics,
  ...(payload === undefined ? {} : { payload }),
});

let started: Started;
before(async () => {
  started = await startHub({ anonymous: true });
});
after(() => started.hub.close());

const subscribeStatus = async (jwt: string) => {
  const controller = new AbortController();
  const response = await fetch(`${started.endpoint}?match=/a`, {
    headers: { authorization: `Bearer ${jwt}` },
    signal: controller.signal,
  });
  const text = response.status === 200 ? "" : await response.text();
  controller.abort();
  return { status: response.status, text };
};

describe("Mercure 1.0 access tokens", () => {
  test("publish rights come from details whose actions include publish, exact or URL Pattern", async () => {
    const jwt = await accessToken([
      detail(["publish"], [{ match: "https://example.com/books/:id", match_type: "urlpattern" }]),
      detail(["publish", "subscribe"], [{ match: "https://example.com/exact" }]),
      detail(["subscribe"], [{ match: "https://example.com/read-only" }]),
    ]);
    const status = async (topic: string) =>
      (await publish(started.endpoint, { topic, data: "x" }, jwt)).status;
    assert.equal(await status("https://example.com/books/1"), 200);
    assert.equal(await status("https://example.com/exact"), 200);
    assert.equal(await status("https://example.com/books/1/reviews"), 403);
    assert.equal(await status("https://example.com/exact/more"), 403);
    assert.equal(await status("https://example.com/read-only"), 403);
  });

  test('{ "match": "*" } grants every topic', async () => {
    const jwt = await accessToken([detail(["publish"], [{ match: "*" }])]);
    assert.equal((await publish(started.endpoint, { topic: "urn:anything" }, jwt)).status, 200);
  });

  test("private updates reach only subscribers whose subscribe details cover them, live and on replay", async () => {
    const allowed = await accessToken([
      detail(["subscribe"], [{ match: "https://example.com/users/1/:box", match_type: "urlpattern" }]),
    ]);
    const other = await accessToken([
      detail(["subscribe"], [{ match: "https://example.com/users/2/inbox" }]),
    ]);
    const topic = "https://example.com/users/1/inbox";
    const url = `${started.endpoint}?match=${encodeURIComponent(topic)}`;
    const mine = new Collector(url, { jwt: allowed });
    const theirs = new Collector(url, { jwt: other });
    try {
      await Promise.all([mine.opened(), theirs.opened()]);
      await publishOk(started.endpoint, { topic, data: "secret", private: "on" });
      await publishOk(started.endpoint, { topic, data: "public" });
      await Promise.all([mine.waitFor(2), theirs.waitFor(1)]);
      assert.deepEqual(
        mine.events.map((e) => e.data),
        ["secret", "public"],
      );
      assert.deepEqual(
        theirs.events.map((e) => e.data),
        ["public"],
      );
      const replay = await readStream(
        `${url}&last_event_id=earliest`,
        { authorization: `Bearer ${other}` },
        (text) => text.includes("data: public"),
      );
      assert.doesNotMatch(replay.text, /secret/);
    } finally {
      mine.close();
      theirs.close();
    }
  });

  test("details of other types are ignored and grant nothing", async () => {
    const jwt = await accessToken([
      { type: "payment_initiation", actions: { read: true }, topics: "acme" },
      detail(["publish"], [{ match: "/mine" }]),
    ]);
    assert.equal((await publish(started.endpoint, { topic: "/mine" }, jwt)).status, 200);
    const foreignOnly = await accessToken([
      { type: "tenant", actions: ["publish"], topics: [{ match: "*" }] },
    ]);
    assert.equal((await publish(started.endpoint, { topic: "/mine" }, foreignOnly)).status, 403);
  });

  test("a malformed Mercure detail makes the whole token invalid, with the reason", async () => {
    const cases: [string, unknown[], RegExp][] = [
      [
        "topic without match",
        [detail(["subscribe"], [{ match: "", match_type: "exact" }])],
        /non-empty string "match"/,
      ],
      ["null topic", [detail(["subscribe"], [null])], /authorization_details\[0\]\.topics\[0\]/],
      [
        "unknown match type",
        [detail(["subscribe"], [{ match: "/a", match_type: "regex" }])],
        /match_type "regex"/,
      ],
      ["unknown action", [detail(["delete"], [{ match: "/a" }])], /actions must be/],
      [
        "topics not a list",
        [{ type: DETAIL, actions: ["subscribe"], topics: "/a" }],
        /topics must be an array/,
      ],
    ];
    for (const [name, details, reason] of cases) {
      const { status, text } = await subscribeStatus(await accessToken(details));
      assert.equal(status, 401, name);
      assert.match(text, reason, name);
    }
    const notAList = await new SignJWT({ authorization_details: { type: DETAIL } })
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .sign(secretKey);
    assert.equal((await subscribeStatus(notAList)).status, 401);
  });

  test("the 1.0 cookie __Secure-mercure_access_token carries the token", async () => {
    const jwt = await accessToken([detail(["subscribe"], [{ match: "/cookie" }])]);
    const url = `${started.endpoint}?match=/cookie`;
    const controller = new AbortController();
    const withCookie = (await import("eventsource")).EventSource;
    const source = new withCookie(url, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          signal: controller.signal,
          headers: { ...init?.headers, cookie: `__Secure-mercure_access_token=${jwt}` },
        }),
    });
    try {
      const received = new Promise<string>((resolve) =>
        source.addEventListener("message", (event) => resolve(String(event.data))),
      );
      await new Promise<void>((resolve) => source.addEventListener("open", () => resolve(), { once: true }));
      await publishOk(started.endpoint, { topic: "/cookie", data: "for the cookie holder", private: "on" });
      assert.equal(await received, "for the cookie holder");
    } finally {
      source.close();
      controller.abort();
    }
  });

  test("with a resource identifier, a token must name the hub in aud", async () => {
    const hub = await startHub({ resourceIdentifier: "https://hub.example.com/.well-known/mercure" });
    try {
      const post = async (jwt: string) => {
        const response = await publish(hub.endpoint, { topic: "/aud" }, jwt);
        return { status: response.status, text: await response.text() };
      };
      const details = [detail(["publish"], [{ match: "*" }])];
      assert.equal((await post(await accessToken(details))).status, 200);
      const elsewhere = await new SignJWT({ authorization_details: details })
        .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
        .setAudience("https://other-hub.example.com/.well-known/mercure")
        .sign(secretKey);
      const refused = await post(elsewhere);
      assert.equal(refused.status, 401);
      assert.match(refused.text, /"aud"/);
      assert.equal((await post(await token({ publish: ["*"] }))).status, 401, "a token without aud");
    } finally {
      await hub.hub.close();
    }
  });

  test("a 0.x token and a 1.0 token work side by side on the same hub", async () => {
    const legacy = await token({ publish: ["/both/{x}"] });
    const modern = await accessToken([
      detail(["publish"], [{ match: "/both/:x", match_type: "urlpattern" }]),
    ]);
    assert.equal((await publish(started.endpoint, { topic: "/both/1" }, legacy)).status, 200);
    assert.equal((await publish(started.endpoint, { topic: "/both/1" }, modern)).status, 200);
    assert.equal((await publish(started.endpoint, { topic: "/other" }, modern)).status, 403);
  });
});
