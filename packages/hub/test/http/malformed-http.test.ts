// Requests node's HTTP parser refuses, sent as raw bytes over TCP and HTTP/2: each gets a 4xx with
// a one-line text/plain reason.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { parseRaw, rawExchange, startEdgeHub } from "../support/edge-support.js";
import type { Started } from "../support/hub-support.js";

let started: Started;
before(async () => {
  started = await startEdgeHub();
});
after(() => started.hub.close());

describe("malformed HTTP", () => {
  const requests: [string, string, number, RegExp][] = [
    ["an invalid method", "HELLO / HTTP/1.1\r\nHost: hub\r\n\r\n", 400, /malformed HTTP request/],
    [
      "a bad chunk size",
      "POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n",
      400,
      /malformed HTTP request/,
    ],
    [
      "Content-Length together with Transfer-Encoding",
      "POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400,
      /malformed HTTP request/,
    ],
    [
      "a control character in a header value",
      "GET /healthz HTTP/1.1\r\nHost: hub\r\nLast-Event-ID: a\u0001b\r\n\r\n",
      400,
      /malformed HTTP request/,
    ],
    [
      "headers larger than the server accepts",
      `GET /.well-known/mercure?topic=${"a".repeat(20_000)} HTTP/1.1\r\nHost: hub\r\n\r\n`,
      431,
      /larger than this hub accepts/,
    ],
    [
      "a request target that is not a URL",
      "GET http://[bad/x HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n",
      400,
      /request target "http:\/\/\[bad\/x" is not a valid URL/,
    ],
  ];
  for (const [what, request, status, reason] of requests) {
    test(`${what} is ${status} with a one-line text/plain reason`, async () => {
      const response = await rawExchange(started, request);
      const parsed = parseRaw(response);
      assert.equal(parsed.status, status, response);
      assert.match(parsed.headers, /content-type: text\/plain/);
      assert.match(parsed.body, reason);
      assert.equal(parsed.body.trimEnd().includes("\n"), false);
    });
  }
});

describe("malformed HTTP on a kept-alive connection", () => {
  test("a malformed request after a completed response still gets its reason", async () => {
    const socket = connect(Number(new URL(started.url).port), "127.0.0.1");
    try {
      let received = "";
      socket.setEncoding("utf8");
      const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      const firstAnswered = new Promise<void>((resolve) => {
        socket.on("data", (chunk: string) => {
          received += chunk;
          if (received.includes("\r\n\r\nok\n")) resolve();
        });
      });
      socket.write("GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n");
      await firstAnswered;
      socket.write("GET /healthz HTTP/1.1\r\nHost: hub\r\nContent-Length: x\r\n\r\n");
      await closed;
      const second = parseRaw(received.slice(received.indexOf("ok\n") + 3));
      assert.equal(second.status, 400, received);
      assert.match(second.body, /malformed HTTP request/);
    } finally {
      socket.destroy();
    }
  });
});
