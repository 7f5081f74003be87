// Bad input at the hub's HTTP edge, over real sockets (fetch, raw TCP for what fetch cannot send):
// every malformed request gets a 4xx with a one-line text/plain reason, and nothing it carried is
// stored or dispatched.
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { connect as connectHttp2 } from "node:http2";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { compileTemplate } from "../../src/domain/template.js";
import { FormEncodingError, parseForm } from "../../src/http/form.js";
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
  started = await startHub({ anonymous: true, bodyTimeoutMs: 300, subscriptions: false });
});
after(() => started.hub.close());

/** Posts a raw form body (no URLSearchParams re-encoding) with a publisher token. */
async function postRaw(
  body: string | Uint8Array<ArrayBuffer>,
  contentType = "application/x-www-form-urlencoded",
) {
  return fetch(started.endpoint, {
    method: "POST",
    headers: { authorization: `Bearer ${await publisherToken()}`, "content-type": contentType },
    body,
  });
}

/** Asserts a status and a one-line text/plain reason matching `reason`. */
async function assertRefused(response: Response, status: number, reason: RegExp): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  assert.match(text, reason);
  assert.equal(text.trimEnd().includes("\n"), false, `one line: ${text}`);
}

/** The data of every update in history on `topic` (public ones: the poll is anonymous). */
async function stored(topic: string): Promise<string[]> {
  const url = `${started.endpoint}?poll=1&timeout=0&lastEventID=earliest&topic=${encodeURIComponent(topic)}`;
  const body = (await (await fetch(url)).json()) as { events: { data: string }[] };
  return body.events.map((e) => e.data);
}

/** Sends raw bytes on a new TCP connection and resolves with everything received until it closes. */
function rawExchange(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(started.url).port), "127.0.0.1");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("close", () => resolve(received));
    // The hub may answer and close before it has read all of a large request: keep the answer.
    socket.on("error", (error) => (received === "" ? reject(error) : resolve(received)));
    socket.write(request);
  });
}

function parseRaw(response: string): { status: number; headers: string; body: string } {
  const [head = "", body = ""] = response.split("\r\n\r\n");
  return { status: Number(head.split(" ")[1]), headers: head.toLowerCase(), body };
}

describe("publish bodies", () => {
  test("a malformed percent escape is 400 naming the field, and nothing is stored", async () => {
    await assertRefused(
      await postRaw("topic=/bad/escape&data=100%zz"),
      400,
      /form field "data" has a malformed percent escape "%zz"/,
    );
    await assertRefused(await postRaw("topic=/bad/escape&data=50%"), 400, /"data".*malformed/);
    assert.deepEqual(await stored("/bad/escape"), []);
  });

  test("escapes of bytes that are not UTF-8, and raw bytes that are not UTF-8, are 400 instead of being replaced", async () => {
    await assertRefused(await postRaw("topic=/bad/utf8&data=%ff%fe"), 400, /"data" is not UTF-8/);
    const raw = new Uint8Array([...new TextEncoder().encode("topic=/bad/utf8&data="), 0xe9]);
    await assertRefused(await postRaw(raw), 400, /not valid UTF-8/);
    assert.deepEqual(await stored("/bad/utf8"), []);
    // Well-formed UTF-8 escapes still decode.
    await publishOk(started.endpoint, { topic: "/bad/utf8", data: "été ✓" });
    assert.deepEqual(await stored("/bad/utf8"), ["été ✓"]);
  });

  test("a form declared in a charset other than UTF-8 is 415", async () => {
    await assertRefused(
      await postRaw("topic=/bad/charset&data=%E9", "application/x-www-form-urlencoded; charset=ISO-8859-1"),
      415,
      /UTF-8 \(got charset=ISO-8859-1\)/,
    );
    const utf8 = await postRaw(
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
    assert.deepEqual(await stored("/fine"), []);
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
      "POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\n" +
        `Authorization: Bearer ${jwt}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        "Content-Length: 100\r\n\r\ntopic=/bad/slow&data=half",
    );
    const { status, headers, body } = parseRaw(response);
    assert.equal(status, 408, response);
    assert.match(headers, /connection: close/);
    assert.match(body, /did not arrive within 300 ms.*nothing was published/);
    assert.deepEqual(await stored("/bad/slow"), []);
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
    assert.deepEqual(await stored("/bad/abort"), ["after"]);
  });

  test("a chunked body is read whole", async () => {
    const jwt = await publisherToken();
    const response = await rawExchange(
      "POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n" +
        `Authorization: Bearer ${jwt}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        "Transfer-Encoding: chunked\r\n\r\n6\r\ntopic=\r\nf\r\n/chunked&data=a\r\n2\r\nbc\r\n0\r\n\r\n",
    );
    assert.equal(parseRaw(response).status, 200, response);
    assert.deepEqual(await stored("/chunked"), ["abc"]);
  });
});

describe("strict form decoding", () => {
  test("what URLSearchParams encodes, from any strings, decodes to the same fields (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }))),
        (entries) => {
          const text = new URLSearchParams(entries).toString();
          assert.deepEqual([...parseForm(text, "form field")], [...new URLSearchParams(text)]);
        },
      ),
    );
  });

  test("on any text it either agrees with URLSearchParams or refuses with a FormEncodingError (property)", () => {
    const piece = fc.constantFrom(
      "a",
      "=",
      "&",
      "+",
      "%",
      "%2",
      "%41",
      "%zz",
      "%C3%A9",
      "%C3",
      "%FF",
      "%E2%9C%93",
      "é",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const text = pieces.join("");
        let parsed: URLSearchParams | undefined;
        try {
          parsed = parseForm(text, "form field");
        } catch (error) {
          assert.ok(error instanceof FormEncodingError, String(error));
          assert.match(text, /%(?![0-9A-Fa-f]{2})|%[89A-Fa-f][0-9A-Fa-f]/, "only escapes can be refused");
          return;
        }
        assert.deepEqual([...parsed], [...new URLSearchParams(text)]);
        for (const [name, value] of parsed) assert.equal(`${name}${value}`.includes("\uFFFD"), false, text);
      }),
    );
  });
});

describe("URI templates from subscribers", () => {
  /** The regular expression the hub used to build for a template (RFC 6570 expressions as patterns). */
  function backtrackingReference(template: string): RegExp {
    const U = "(?:[A-Za-z0-9\\-._~]|%[0-9A-Fa-f]{2})";
    const R = "(?:[A-Za-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})";
    const list = `${U}*(?:,${U}*)*`;
    const forms: Record<string, string> = {
      "+": `${R}*`,
      "#": `(?:#${R}*)?`,
      ".": `(?:\\.${U}*)*`,
      "/": `(?:/${U}*)*`,
      ";": `(?:;${U}+(?:=${list})?)*`,
      "?": `(?:\\?${R}*)?`,
      "&": `(?:&${R}*)?`,
    };
    const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    const source = template.replace(
      /\{([^}]*)\}|([^{]+)/g,
      (_, body: string | undefined, text: string | undefined) =>
        body === undefined ? literal(text ?? "") : (forms[body[0] ?? ""] ?? list),
    );
    return new RegExp(`^${source}$`);
  }

  test("the linear-time matcher accepts exactly what the backtracking expression did (property)", () => {
    const part = fc.constantFrom(
      "a",
      "/",
      ".",
      "-",
      "{x}",
      "{+x}",
      "{#x}",
      "{.x}",
      "{/x}",
      "{;x}",
      "{?x}",
      "{&x}",
      "{x,y}",
    );
    const char = fc.constantFrom(
      "a",
      "b",
      "/",
      ".",
      ",",
      ";",
      "=",
      "?",
      "&",
      "#",
      "%41",
      "%4",
      "-",
      "!",
      "é",
    );
    fc.assert(
      fc.property(
        fc.array(part, { minLength: 1, maxLength: 4 }),
        fc.array(char, { maxLength: 8 }),
        (parts, chars) => {
          const template = parts.join("");
          const topic = chars.join("");
          assert.equal(
            compileTemplate(template)(topic),
            backtrackingReference(template).test(topic),
            `${template} ${topic}`,
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  test(
    "a template that backtracks exponentially cannot stall the hub: publishing and delivery go on",
    { timeout: 15_000 },
    async () => {
      const own = await startHub({ anonymous: true });
      const trap = new Collector(`${own.endpoint}?topic=${encodeURIComponent("{a}{b}{c}{d}{e}{f}{g}{h}")}`);
      const dots = new Collector(`${own.endpoint}?topic=${encodeURIComponent("/x{.y}z")}`);
      const plain = new Collector(`${own.endpoint}?topic=/plain`);
      try {
        await Promise.all([trap.opened(), dots.opened(), plain.opened()]);
        // Topics that almost match: each took the old expressions hours.
        await publishOk(own.endpoint, { topic: `${"a".repeat(200)}!`, data: "almost" });
        await publishOk(own.endpoint, { topic: `/x${".".repeat(200)}!`, data: "almost" });
        await publishOk(own.endpoint, { topic: "/plain", data: "still served" });
        await plain.waitFor(1);
        assert.equal(plain.events[0]?.data, "still served");
        assert.deepEqual(trap.events, []);
        assert.deepEqual(dots.events, []);
      } finally {
        trap.close();
        dots.close();
        plain.close();
        await own.hub.close();
      }
    },
  );

  test("a template with more than 16 expressions is 400", async () => {
    await assertRefused(
      await fetch(`${started.endpoint}?topic=${encodeURIComponent("{a}".repeat(17))}`),
      400,
      /17 expressions; a template may have at most 16/,
    );
  });
});

describe("URL Patterns from subscribers", () => {
  const head = (pattern: string) =>
    fetch(`${started.endpoint}?match_urlpattern=${encodeURIComponent(pattern)}`, { method: "HEAD" });

  test("patterns whose backtracking could run for minutes are 400 with the reason", async () => {
    // "*:a*:b*:c*:d" against a 200-character topic ran for over a minute before this bound.
    for (const pattern of ["*:a*:b*:c*:d", "/:a-:b-:c", "/{:a}*"]) {
      await assertRefused(
        await fetch(`${started.endpoint}?match_urlpattern=${encodeURIComponent(pattern)}`),
        400,
        /more than 2 groups .* between two "\/"/,
      );
    }
    await assertRefused(
      await fetch(`${started.endpoint}?match_urlpattern=${encodeURIComponent("/*/a/*/b/*")}`),
      400,
      /at most 2 \* wildcards/,
    );
    await assertRefused(
      await fetch(`${started.endpoint}?match_urlpattern=${encodeURIComponent("/:id(a+b+)")}`),
      400,
      /at most one quantifier/,
    );
  });

  test("common patterns stay accepted", async () => {
    for (const pattern of [
      "https://example.com/books/:id",
      "https://example.com/books/:id(\\d+)",
      "https://*.example.com/*",
      "/users/:uid/books/:id.:format",
      "/books{/:part}?",
      "/files/:path+",
    ]) {
      const response = await head(pattern);
      assert.equal(response.status, 200, `${pattern}: ${response.status}`);
    }
  });
});

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
      const response = await rawExchange(request);
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

describe("subscribe queries", () => {
  const sub = (query: string) => fetch(`${started.endpoint}?${query}`);

  test("a malformed percent escape or an escape of non-UTF-8 bytes is 400 naming the parameter", async () => {
    await assertRefused(
      await sub("topic=%zz"),
      400,
      /query parameter "topic" has a malformed percent escape/,
    );
    await assertRefused(await sub("topic=%ff"), 400, /query parameter "topic" is not UTF-8/);
  });

  test("a poll parameter other than 1 is 400 instead of opening a stream", async () => {
    await assertRefused(
      await sub("topic=/a&poll=true"),
      400,
      /"poll" must be 1 to poll, or left out to stream \(got "true"\)/,
    );
  });

  test("a selector with a control character is 400", async () => {
    await assertRefused(await sub("match=%01a"), 400, /"match" must not contain control characters/);
  });

  test("a last event id with a control character is 400 instead of replaying the whole history", async () => {
    await assertRefused(
      await sub("topic=/a&lastEventID=%0Aid"),
      400,
      /"lastEventID" must not contain control/,
    );
    await assertRefused(
      await sub("topic=/a&last_event_id=%00"),
      400,
      /"last_event_id" must not contain control/,
    );
    await assertRefused(
      await sub("topic=/a&poll=1&timeout=0&lastEventID=%0Aid"),
      400,
      /"lastEventID" must not contain control/,
    );
  });

  test("a parameter in the reserved match namespace that names no matcher type is 400", async () => {
    await assertRefused(await sub("topic=/a&matchRegex=.*"), 400, /unknown selector parameter "matchRegex"/);
    await assertRefused(await sub("MATCH=/a"), 400, /unknown selector parameter "MATCH"/);
  });

  test("matchExact and matchURLPattern select like match and match_urlpattern", async () => {
    const exact = new Collector(`${started.endpoint}?matchExact=/spelled/exact`);
    const pattern = new Collector(
      `${started.endpoint}?matchURLPattern=${encodeURIComponent("/spelled/:id")}`,
    );
    try {
      await Promise.all([exact.opened(), pattern.opened()]);
      await publishOk(started.endpoint, { topic: "/spelled/exact", data: "e" });
      await Promise.all([exact.waitFor(1), pattern.waitFor(1)]);
      assert.equal(exact.events[0]?.data, "e");
      assert.equal(pattern.events[0]?.data, "e");
    } finally {
      exact.close();
      pattern.close();
    }
  });

  test("more than 200 selectors, or a selector longer than 2048 characters, is 400 with the bound", async () => {
    const many = Array.from({ length: 201 }, (_, i) => `match=/m/${i}`).join("&");
    await assertRefused(await sub(many), 400, /at most 200/);
    await assertRefused(await sub(`match=/${"x".repeat(2048)}`), 400, /at most 2048/);
    const poll = await fetch(`${started.endpoint}?poll=1&timeout=0&${many}`);
    await assertRefused(poll, 400, /at most 200/);
  });
});

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
    const star = parseRaw(await rawExchange("OPTIONS * HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n"));
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
