// Bad publish bodies (routes/publish.ts, http/form.ts) over real sockets: each gets a 4xx with a
// one-line text/plain reason, and nothing it carried is stored or dispatched.
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { connect as connectHttp2 } from "node:http2";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  assertRefused,
  parseRaw,
  postRaw,
  rawExchange,
  startEdgeHub,
  stored,
} from "../support/edge-support.js";
import {
  Collector,
  publish,
  publisherToken,
  publishOk,
  type Started,
  startHub,
} from "../support/hub-support.js";
import { selfSignedCertificate } from "../support/tls-support.js";

let started: Started;
before(async () => {
  started = await startEdgeHub();
});
after(() => started.hub.close());

describe("publish bodies", () => {
  test("a malformed percent escape is 400 naming the field, and nothing is stored", async () => {
    await assertRefused(
      await postRaw(started, "topic=/bad/escape&data=100%zz"),
      400,
      /form field "data" has a malformed percent escape "%zz"/,
    );
    await assertRefused(await postRaw(started, "topic=/bad/escape&data=50%"), 400, /"data".*malformed/);
    assert.deepEqual(await stored(started, "/bad/escape"), []);
  });

  test("escapes of bytes that are not UTF-8, and raw bytes that are not UTF-8, are 400 instead of being replaced", async () => {
    await assertRefused(await postRaw(started, "topic=/bad/utf8&data=%ff%fe"), 400, /"data" is not UTF-8/);
    const raw = new Uint8Array([...new TextEncoder().encode("topic=/bad/utf8&data="), 0xe9]);
    await assertRefused(await postRaw(started, raw), 400, /not valid UTF-8/);
    assert.deepEqual(await stored(started, "/bad/utf8"), []);
    // Well-formed UTF-8 escapes still decode.
    await publishOk(started.endpoint, { topic: "/bad/utf8", data: "été ✓" });
    assert.deepEqual(await stored(started, "/bad/utf8"), ["été ✓"]);
  });

  test("a form declared in a charset other than UTF-8 is 415", async () => {
    await assertRefused(
      await postRaw(
        started,
        "topic=/bad/charset&data=%E9",
        "application/x-www-form-urlencoded; charset=ISO-8859-1",
      ),
      415,
      /UTF-8 \(got charset=ISO-8859-1\)/,
    );
    const utf8 = await postRaw(
      started,
      "topic=/bad/charset&data=ok",
      'application/x-www-form-urlencoded; charset="UTF-8"',
    );
    assert.equal(utf8.status, 200, await utf8.text());
  });

  test("a compressed body is 415 instead of being read as text", async () => {
    const response = await fetch(started.endpoint, {
      method: "POST",
      headers: {
        authorization: `Bearer ${await publisherToken()}`,
        "content-type": "application/x-www-form-urlencoded",
        "content-encoding": "gzip",
      },
      body: new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]),
    });
    await assertRefused(
      response,
      415,
      /compressed request bodies are not accepted \(got Content-Encoding: gzip\)/,
    );
  });

  test("a body declared over the limit is 413 at once and the connection is closed, so the rest is never read", async () => {
    const jwt = await publisherToken();
    const response = await rawExchange(
      started,
      "POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\n" +
        `Authorization: Bearer ${jwt}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        `Content-Length: ${2 * 1024 * 1024}\r\n\r\ntopic=/bad/big&data=`,
    );
    const { status, headers, body } = parseRaw(response);
    assert.equal(status, 413, response);
    assert.match(headers, /connection: close/);
    assert.match(body, /this hub accepts at most 1048576/);
  });

  test("a topic with a control character is 400", async () => {
    await assertRefused(
      await publish(started.endpoint, { topic: "/bad/\u0001ctl", data: "x" }),
      400,
      /"topic" must not contain control characters/,
    );
    await assertRefused(await publish(started.endpoint, { topic: "/bad/\u0085" }), 400, /control/);
  });

  test("a topic in the hub's /.well-known/mercure namespace is 403, however it is spelled, so subscription events cannot be forged", async () => {
    const forged = [
      "/.well-known/mercure/subscriptions/x/y",
      "https://hub.example.com/.well-known/mercure/subscriptions/x/y",
      "/books/../.well-known/mercure/subscriptions/x/y",
      ".well-known/mercure",
      "/books/%2e%2E/.well-known/mercure/subscriptions/x/y",
      "https://hub.example.com\\.well-known\\mercure",
    ];
    for (const topic of forged) {
      await assertRefused(
        await publish(started.endpoint, { topic: ["/fine", topic], data: "forged" }),
        403,
        /reserved namespace \/\.well-known\/mercure/,
      );
    }
    assert.deepEqual(await stored(started, "/fine"), []);
  });

  test("a retry of more than 10 digits is 400 and says the bound", async () => {
    await assertRefused(
      await publish(started.endpoint, { topic: "/bad/retry", retry: "12345678901" }),
      400,
      /at most 10 digits/,
    );
  });

  test("private with any value, even off or false, marks the update private", async () => {
    const anonymous = new Collector(`${started.endpoint}?topic=/private/values`);
    try {
      await anonymous.opened();
      await publishOk(started.endpoint, { topic: "/private/values", data: "p1", private: "off" });
      await publishOk(started.endpoint, { topic: "/private/values", data: "p2", private: "false" });
      await publishOk(started.endpoint, { topic: "/private/values", data: "p3", private: "" });
      await publishOk(started.endpoint, { topic: "/private/values", data: "public" });
      await anonymous.waitFor(1);
      assert.deepEqual(
        anonymous.events.map((e) => e.data),
        ["public"],
      );
    } finally {
      anonymous.close();
    }
  });

  test("a body that never finishes is answered 408, the connection closes, and nothing is stored", async () => {
    const jwt = await publisherToken();
    const response = await rawExchange(
      started,
      "POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\n" +
        `Authorization: Bearer ${jwt}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        "Content-Length: 100\r\n\r\ntopic=/bad/slow&data=half",
    );
    const { status, headers, body } = parseRaw(response);
    assert.equal(status, 408, response);
    assert.match(headers, /connection: close/);
    assert.match(body, /did not arrive within 300 ms.*nothing was published/);
    assert.deepEqual(await stored(started, "/bad/slow"), []);
  });

  test(
    "over HTTP/2, a body that never finishes is answered 408 and its stream is reset",
    { timeout: 20_000 },
    async () => {
      const certificate = selfSignedCertificate();
      try {
        const tls = { cert: certificate.cert, key: certificate.key };
        const secure = await startHub({ anonymous: true, bodyTimeoutMs: 300, tls });
        const session = connectHttp2(secure.url, { rejectUnauthorized: false });
        try {
          const stream = session.request({
            ":method": "POST",
            ":path": "/.well-known/mercure",
            authorization: `Bearer ${await publisherToken()}`,
            "content-type": "application/x-www-form-urlencoded",
          });
          let status = 0;
          let body = "";
          stream.on("response", (headers) => {
            status = Number(headers[":status"]);
          });
          stream.setEncoding("utf8");
          stream.on("data", (chunk: string) => {
            body += chunk;
          });
          const closed = new Promise<number>((resolve) =>
            stream.on("close", () => resolve(stream.rstCode ?? -1)),
          );
          stream.write("topic=/h2/slow&data=half");
          assert.equal(await closed, 0, "reset with NO_ERROR after the answer");
          assert.equal(status, 408);
          assert.match(body, /did not arrive within 300 ms/);
        } finally {
          session.destroy();
          await secure.hub.close();
        }
      } finally {
        certificate.dispose();
      }
    },
  );

  test("a publisher that disconnects in the middle of its body publishes nothing", async () => {
    const jwt = await publisherToken();
    // The hub's own handler is also a "request" listener; this one only watches.
    const received = new Promise<IncomingMessage>((resolve) => started.hub.server.once("request", resolve));
    const client = connect(Number(new URL(started.url).port), "127.0.0.1");
    client.write(
      "POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\n" +
        `Authorization: Bearer ${jwt}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        "Content-Length: 100\r\n\r\ntopic=/bad/abort&data=half",
    );
    const request = await received;
    const closed = new Promise<void>((resolve) => request.socket.once("close", () => resolve()));
    client.destroy();
    await closed;
    await publishOk(started.endpoint, { topic: "/bad/abort", data: "after" });
    assert.deepEqual(await stored(started, "/bad/abort"), ["after"]);
  });

  test("a body that arrives after its head, in parts, is read whole", async () => {
    const jwt = await publisherToken();
    const body = "topic=%2Flate&data=first+half+and+second+half";
    const received = new Promise((resolve) => started.hub.server.once("request", resolve));
    const client = connect(Number(new URL(started.url).port), "127.0.0.1");
    try {
      let response = "";
      client.setEncoding("utf8");
      const answered = new Promise<void>((resolve) =>
        client.on("data", (chunk: string) => {
          response += chunk;
          if (response.includes("\r\n\r\n")) resolve();
        }),
      );
      client.write(
        "POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n" +
          `Authorization: Bearer ${jwt}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
          `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`,
      );
      // The hub has the head and the first part of the body when it starts reading; the rest
      // comes later.
      await received;
      client.write(body.slice(20));
      await answered;
      assert.equal(parseRaw(response).status, 200, response);
      assert.deepEqual(await stored(started, "/late"), ["first half and second half"]);
    } finally {
      client.destroy();
    }
  });

  test("publishes pipelined on one connection are each read whole and answered in order", async () => {
    const jwt = await publisherToken();
    const request = (data: string, close = false) => {
      const body = `topic=%2Fpipelined&data=${data}`;
      return (
        `POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\n${close ? "Connection: close\r\n" : ""}` +
        `Authorization: Bearer ${jwt}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}`
      );
    };
    const response = await rawExchange(started, request("one") + request("two") + request("three", true));
    const ids = response
      .split(/HTTP\/1\.1 /)
      .slice(1)
      .map((answer) => {
        assert.match(answer, /^200 /, response);
        return answer.split("\r\n\r\n")[1];
      });
    assert.equal(ids.length, 3, response);
    assert.deepEqual(await stored(started, "/pipelined"), ["one", "two", "three"]);
  });

  test("a chunked body is read whole", async () => {
    const jwt = await publisherToken();
    const response = await rawExchange(
      started,
      "POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n" +
        `Authorization: Bearer ${jwt}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        "Transfer-Encoding: chunked\r\n\r\n6\r\ntopic=\r\nf\r\n/chunked&data=a\r\n2\r\nbc\r\n0\r\n\r\n",
    );
    assert.equal(parseRaw(response).status, 200, response);
    assert.deepEqual(await stored(started, "/chunked"), ["abc"]);
  });
});
