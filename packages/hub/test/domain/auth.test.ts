// Authorization over real sockets: token sources, key kinds (secret, PEM, JWKS URL), refusals, private updates.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import {
  Collector,
  publish,
  publishOk,
  readStream,
  type Started,
  startHub,
  token,
} from "../support/hub-support.js";

let started: Started;
before(async () => {
  started = await startHub();
});
after(() => started.hub.close());

const status = async (url: string, headers: Record<string, string> = {}) => {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const text = response.status === 200 ? "" : await response.text();
  controller.abort();
  return { status: response.status, text };
};

describe("subscriber tokens", () => {
  test("without a token and without anonymous access, subscribing is 401", async () => {
    const { status: code, text } = await status(`${started.endpoint}?topic=/a`);
    assert.equal(code, 401);
    assert.match(text, /JWT is required/);
  });

  test("a token is accepted from the header, the authorization query parameter or the cookie", async () => {
    const jwt = await token({ subscribe: ["*"] });
    assert.equal(
      (await status(`${started.endpoint}?topic=/a`, { authorization: `Bearer ${jwt}` })).status,
      200,
    );
    assert.equal((await status(`${started.endpoint}?topic=/a&authorization=${jwt}`)).status, 200);
    assert.equal(
      (await status(`${started.endpoint}?topic=/a`, { cookie: `other=1; mercureAuthorization=${jwt}` }))
        .status,
      200,
    );
  });

  const refused: [string, () => Promise<string>][] = [
    ["alg none", async () => new UnsecuredJWT({ mercure: { subscribe: ["*"] } }).encode()],
    [
      "a wrong key",
      () =>
        token({ subscribe: ["*"] }, { key: new TextEncoder().encode("another-secret-of-enough-length!!") }),
    ],
    [
      "an expired token",
      () => token({ subscribe: ["*"] }, { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
    ],
    ["a malformed token", async () => "not.a.jwt"],
  ];
  for (const [what, make] of refused) {
    test(`refuses ${what} with 401`, async () => {
      const jwt = await make();
      const sub = await status(`${started.endpoint}?topic=/a`, { authorization: `Bearer ${jwt}` });
      assert.equal(sub.status, 401);
      const pub = await publish(started.endpoint, { topic: "/a" }, jwt);
      assert.equal(pub.status, 401);
    });
  }

  test("a stream ends when its token expires", { timeout: 15_000 }, async () => {
    const jwt = await token({ subscribe: ["*"] }, { expiresIn: Math.floor(Date.now() / 1000) + 2 });
    const response = await fetch(`${started.endpoint}?topic=/expiring`, {
      headers: { authorization: `Bearer ${jwt}` },
    });
    assert.equal(response.status, 200);
    // Reading to the end returns only because the hub closes the stream at exp.
    const text = await response.text();
    assert.match(text, /^retry: /);
  });
});

describe("publisher rights", () => {
  test("publishing without a token is 401, outside the publish claim 403", async () => {
    const none = await fetch(started.endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "topic=/a",
    });
    assert.equal(none.status, 401);
    const limited = await token({ publish: ["https://example.com/books/{id}"] });
    assert.equal(
      (await publish(started.endpoint, { topic: "https://example.com/books/1" }, limited)).status,
      200,
    );
    const outside = await publish(started.endpoint, { topic: "https://example.com/users/1" }, limited);
    assert.equal(outside.status, 403);
    const mixed = await publish(
      started.endpoint,
      { topic: ["https://example.com/books/2", "/admin"] },
      limited,
    );
    assert.equal(mixed.status, 403);
    const subscriberOnly = await token({ subscribe: ["*"] });
    assert.equal((await publish(started.endpoint, { topic: "/a" }, subscriberOnly)).status, 403);
  });

  test("a cookie token publishes only from an allowed origin", async () => {
    const hub = await startHub({ cors: ["https://app.example.com"] });
    try {
      const jwt = await token({ publish: ["*"] });
      const post = (origin?: string) =>
        fetch(hub.endpoint, {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            cookie: `mercureAuthorization=${jwt}`,
            ...(origin === undefined ? {} : { origin }),
          },
          body: "topic=/c",
        });
      assert.equal((await post()).status, 403);
      assert.equal((await post("https://evil.example.com")).status, 403);
      assert.equal((await post("https://app.example.com")).status, 200);
    } finally {
      await hub.hub.close();
    }
  });
});

describe("private updates", () => {
  test("reach only subscribers whose claim matches, live and on replay", async () => {
    const hub = await startHub({ anonymous: true });
    const allowed = await token({ subscribe: ["https://example.com/users/1/{x}"] });
    const other = await token({ subscribe: ["https://example.com/users/2/{x}"] });
    const topic = "https://example.com/users/1/inbox";
    const q = `${hub.endpoint}?topic=${encodeURIComponent("https://example.com/users/{u}/inbox")}`;
    const mine = new Collector(q, { jwt: allowed });
    const theirs = new Collector(q, { jwt: other });
    const anonymous = new Collector(q);
    try {
      await Promise.all([mine.opened(), theirs.opened(), anonymous.opened()]);
      await publishOk(hub.endpoint, { topic, data: "secret", private: "on" });
      await publishOk(hub.endpoint, { topic, data: "public" });
      await Promise.all([mine.waitFor(2), theirs.waitFor(1), anonymous.waitFor(1)]);
      assert.deepEqual(
        mine.events.map((e) => e.data),
        ["secret", "public"],
      );
      assert.deepEqual(
        theirs.events.map((e) => e.data),
        ["public"],
      );
      assert.deepEqual(
        anonymous.events.map((e) => e.data),
        ["public"],
      );

      const replayOther = await readStream(
        `${q}&lastEventID=earliest`,
        { authorization: `Bearer ${other}` },
        (t) => t.includes("data: public"),
      );
      assert.doesNotMatch(replayOther.text, /secret/);
      const replayMine = await readStream(
        `${q}&lastEventID=earliest`,
        { authorization: `Bearer ${allowed}` },
        (t) => t.includes("data: public"),
      );
      assert.match(replayMine.text, /data: secret\n\n.*data: public/s);
    } finally {
      mine.close();
      theirs.close();
      anonymous.close();
      await hub.hub.close();
    }
  });
});

describe("private updates end to end, random topics", () => {
  test("no subscriber receives a private update its claim does not cover", { timeout: 30_000 }, async () => {
    const hub = await startHub();
    const segments = ["a", "b", "1", "22"];
    const pick = (n: number) => segments[n % segments.length] ?? "a";
    // Deterministic pseudo-random claims: exact topics and templates over a small alphabet.
    const claims = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 0 ? `/r/${pick(i)}/{x}` : `/r/${pick(i)}/${pick(i * 7 + 1)}`,
    );
    const collectors = await Promise.all(
      claims.map(async (claim) => {
        const c = new Collector(`${hub.endpoint}?topic=*`, { jwt: await token({ subscribe: [claim] }) });
        await c.opened();
        return { claim, c };
      }),
    );
    try {
      const topics: string[] = [];
      for (let i = 0; i < 60; i++) topics.push(`/r/${pick(i * 5 + 3)}/${pick(i * 11 + 2)}`);
      for (const topic of topics) await publishOk(hub.endpoint, { topic, data: topic, private: "on" });
      // A public end marker: once it arrives, every private update before it has been decided.
      await publishOk(hub.endpoint, { topic: "/end", data: "end" });
      for (const { claim, c } of collectors) {
        await c.until((events) => events.some((e) => e.data === "end"));
        const got = c.events.filter((e) => e.data !== "end").map((e) => e.data);
        const template = claim.endsWith("/{x}");
        const expected = topics.filter((t) => (template ? t.startsWith(claim.slice(0, -3)) : t === claim));
        assert.deepEqual(got, expected, `claim ${claim}`);
      }
    } finally {
      for (const { c } of collectors) c.close();
      await hub.hub.close();
    }
  });
});

describe("public keys", () => {
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  let pem: string;
  before(async () => {
    rsa = await generateKeyPair("RS256", { extractable: true });
    pem = await exportSPKI(rsa.publicKey);
  });
  const rsToken = (kid?: string) =>
    new SignJWT({ mercure: { publish: ["*"], subscribe: ["*"] } })
      .setProtectedHeader({ alg: "RS256", ...(kid === undefined ? {} : { kid }) })
      .sign(rsa.privateKey);

  test("RS256 with a PEM key accepts RS256 tokens and refuses HS256 signed with the public key as secret", async () => {
    const hub = await startHub({ publisherKey: { alg: "RS256", publicKey: pem } });
    try {
      assert.equal((await publish(hub.endpoint, { topic: "/rs" }, await rsToken())).status, 200);
      const confused = await new SignJWT({ mercure: { publish: ["*"] } })
        .setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode(pem));
      const response = await publish(hub.endpoint, { topic: "/rs" }, confused);
      assert.equal(response.status, 401);
      assert.match(await response.text(), /algorithm/);
    } finally {
      await hub.hub.close();
    }
  });

  test("a JWKS URL verifies tokens by kid", async () => {
    const jwk = { ...(await exportJWK(rsa.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    const jwksServer: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    const address = jwksServer.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    const hub = await startHub({ publisherKey: undefined, jwksUrl: `http://127.0.0.1:${port}/jwks.json` });
    try {
      assert.equal((await publish(hub.endpoint, { topic: "/jwks" }, await rsToken("k1"))).status, 200);
      assert.equal((await publish(hub.endpoint, { topic: "/jwks" }, await rsToken("unknown"))).status, 401);
      const sub = await status(`${hub.endpoint}?topic=/jwks`, {
        authorization: `Bearer ${await rsToken("k1")}`,
      });
      assert.equal(sub.status, 200);
    } finally {
      await hub.hub.close();
      jwksServer.closeAllConnections();
      await new Promise((resolve) => jwksServer.close(resolve));
    }
  });
});
