// Bad input on the other routes (subscriptions API, OPTIONS, /healthz, /metrics): 4xx with a
// one-line reason, never 500.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { assertRefused, parseRaw, rawExchange, startEdgeHub } from "../support/edge-support.js";
import { publisherToken, type Started, startHub } from "../support/hub-support.js";

let started: Started;
before(async () => {
  started = await startEdgeHub();
});
after(() => started.hub.close());

describe("other routes", () => {
  test("a malformed percent escape in a subscriptions API path is 400, not 500", async () => {
    const own = await startHub({ anonymous: true });
    try {
      const jwt = await publisherToken();
      for (const path of ["%zz", "%E0%A4%A", "a/%ff"]) {
        const response = await fetch(`${own.endpoint}/subscriptions/${path}`, {
          headers: { authorization: `Bearer ${jwt}` },
        });
        await assertRefused(response, 400, /malformed percent escape or encodes bytes that are not UTF-8/);
      }
    } finally {
      await own.hub.close();
    }
  });

  test("a subscriptions API path with an unencoded topic is 404 saying how to encode it", async () => {
    const own = await startHub({ anonymous: true });
    try {
      const response = await fetch(`${own.endpoint}/subscriptions/https://example.com/books/1/sub`, {
        headers: { authorization: `Bearer ${await publisherToken()}` },
      });
      await assertRefused(response, 404, /each part percent-encoded \(a topic's \/ as %2F\)/);
    } finally {
      await own.hub.close();
    }
  });

  test("the subscriptions API answers HEAD like GET, and other methods with 405 and Allow", async () => {
    const own = await startHub({ anonymous: true });
    try {
      const headers = { authorization: `Bearer ${await publisherToken()}` };
      const head = await fetch(`${own.endpoint}/subscriptions`, { method: "HEAD", headers });
      assert.equal(head.status, 200);
      assert.match(head.headers.get("content-type") ?? "", /^application\/ld\+json/);
      const put = await fetch(`${own.endpoint}/subscriptions`, { method: "PUT", headers });
      assert.equal(put.headers.get("allow"), "GET, HEAD, OPTIONS");
      await assertRefused(put, 405, /PUT is not allowed on the subscriptions API/);
    } finally {
      await own.hub.close();
    }
  });

  test("OPTIONS without an Origin is not a preflight: 204 with Allow, also for OPTIONS *", async () => {
    const plain = await fetch(started.endpoint, { method: "OPTIONS" });
    assert.equal(plain.status, 204);
    assert.equal(plain.headers.get("allow"), "GET, HEAD, POST, OPTIONS");
    const star = parseRaw(
      await rawExchange(started, "OPTIONS * HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n"),
    );
    assert.equal(star.status, 204);
    assert.match(star.headers, /allow: get, head, post, options/);
    const evil = await fetch(started.endpoint, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example" },
    });
    await assertRefused(
      evil,
      403,
      /origin https:\/\/evil\.example is not allowed by this hub's CORS origins/,
    );
  });

  test("/healthz and /metrics answer other methods with 405 and Allow", async () => {
    for (const path of ["/healthz", "/metrics"]) {
      const response = await fetch(`${started.url}${path}`, { method: "DELETE" });
      assert.equal(response.headers.get("allow"), "GET, HEAD");
      await assertRefused(response, 405, new RegExp(`DELETE is not allowed on ${path}`));
    }
  });
});
