// EventSource in Node against the adversarial fixture server: the WHATWG processing model
// (announce, fail, reestablish, Last-Event-ID, retry, redirects), its extras, and the documented
// behaviours of the `eventsource` package (custom fetch, headers, error code and message).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EventSource as PackageEventSource } from "eventsource";
import { reconnectDelay } from "../../src/client/backoff.js";
import { EventSource, SseClientError, type SseErrorEvent } from "../../src/client/index.js";
import { FIXTURE_CASES } from "../support/fixture-cases.js";
import { type FixtureServer, startFixtureServer } from "../support/fixture-server.js";
import { runScenario } from "../support/scenario.js";

let server: FixtureServer;
before(async () => {
  server = await startFixtureServer();
});
after(() => server.close());

function define(name: string): string {
  const found = FIXTURE_CASES.find((c) => c.name === name);
  if (!found) throw new Error(`no fixture case ${name}`);
  return server.define(name, found.scripts);
}

function nextError(source: EventSource): Promise<SseErrorEvent> {
  return new Promise((resolve) =>
    source.addEventListener("error", (e) => resolve(e as SseErrorEvent), { once: true }),
  );
}

describe("EventSource processing model", { timeout: 30000 }, () => {
  test("delivers messages and custom types, reconnects after the stream ends, stops at 204", async () => {
    const url = define("basic");
    const result = await runScenario(EventSource, url, server.origin);
    assert.equal(result.why, "closed");
    assert.deepEqual(result.log, [
      "init readyState=0 url=true constants=0,1,2,0,1,2",
      "open readyState=1",
      'message "hello" "" readyState=1 origin=true url=true',
      'custom "x" "" readyState=1 origin=true url=true',
      "error readyState=0",
      "error readyState=2",
      "after close readyState=2",
    ]);
    const requests = server.requests("basic");
    assert.equal(requests.length, 2);
    for (const request of requests) {
      assert.equal(request.accept, "text/event-stream");
      assert.equal(request.cacheControl, "no-cache");
      assert.equal(request.pragma, "no-cache");
    }
  });

  test("sends Last-Event-ID on reconnect, ignores ids with NUL, and an empty id clears it", async () => {
    const url = define("ids-nul-and-resume");
    const result = await runScenario(EventSource, url, server.origin);
    const messages = result.log.filter((line) => line.startsWith("message"));
    assert.deepEqual(messages, [
      'message "a" "1" readyState=1 origin=true url=true',
      'message "b" "1" readyState=1 origin=true url=true',
      'message "c" "1" readyState=1 origin=true url=true',
      'message "d" "1" readyState=1 origin=true url=true',
      'message "e" "3" readyState=1 origin=true url=true',
      'message "f" "" readyState=1 origin=true url=true',
    ]);
    assert.deepEqual(
      server.requests("ids-nul-and-resume").map((r) => r.lastEventId),
      [null, "1", "3", null],
    );
  });

  test("parses line endings, a BOM and UTF-8 split across chunks", async () => {
    const lines = (await runScenario(EventSource, define("line-endings-split"), server.origin)).log;
    assert.deepEqual(
      lines.filter((l) => l.startsWith("message")).map((l) => l.split(" ")[1]),
      ['"a\\nb"', '"c"', '"d"'],
    );
    const bom = (await runScenario(EventSource, define("bom-split"), server.origin)).log;
    assert.ok(bom.includes('message "after bom" "" readyState=1 origin=true url=true'));
    const twice = (await runScenario(EventSource, define("bom-twice"), server.origin)).log;
    assert.deepEqual(
      twice.filter((l) => l.startsWith("message")).map((l) => l.split(" ")[1]),
      ['"y"'],
    );
    const utf8 = (await runScenario(EventSource, define("utf8-split"), server.origin)).log;
    const expected = JSON.stringify("caf\u00e9 \u{1F600} \u65e5\u672c");
    assert.equal(utf8.filter((l) => l.startsWith(`message ${expected}`)).length, 2);
  });

  for (const [name, code] of [
    ["bad-content-type", "CONTENT_TYPE"],
    ["no-content-204", "HTTP_STATUS"],
    ["server-error-500", "HTTP_STATUS"],
  ] as const) {
    test(`${name}: fails the connection (CLOSED, one error, no reconnect) with ${code}`, async () => {
      const source = new EventSource(define(name));
      const error = await nextError(source);
      assert.equal(source.readyState, EventSource.CLOSED);
      assert.ok(error.error instanceof SseClientError);
      assert.equal(error.error.code, code);
      assert.equal(server.requests(name).length, 1);
    });
  }

  test("accepts a text/event-stream Content-Type with parameters, in any case", async () => {
    const result = await runScenario(EventSource, define("content-type-params"), server.origin);
    assert.equal(result.opens, 1);
    assert.ok(result.log.includes('message "p" "" readyState=1 origin=true url=true'));
  });

  for (const name of ["redirect-301", "redirect-307"]) {
    test(`follows a ${name.slice(-3)} redirect and keeps the original url`, async () => {
      define("basic-target");
      const url = define(name);
      const result = await runScenario(EventSource, url, server.origin);
      assert.ok(result.log.includes('message "redirected" "r1" readyState=1 origin=true url=true'));
    });
  }

  test("uses the latest valid retry and ignores a retry that is not all digits", async () => {
    const result = await runScenario(EventSource, define("retry-changes"), server.origin);
    assert.equal(result.why, "closed");
    assert.deepEqual(
      result.log.filter((l) => l.startsWith("message")).map((l) => l.split(" ")[1]),
      ['"one"', '"two"'],
    );
  });

  test("comments, empty event names and data-less blocks behave as in the spec", async () => {
    const result = await runScenario(EventSource, define("event-types-and-comments"), server.origin);
    assert.deepEqual(
      result.log.filter((l) => / "/.test(l)).map((l) => l.split(" ").slice(0, 2).join(" ")),
      ['foo "f"', 'message "plain"', 'bar ""', 'message "multi\\nline\\n"'],
    );
  });

  test("a URL that cannot be parsed throws a SyntaxError DOMException", () => {
    assert.throws(
      () => new EventSource("http://[::1"),
      (e: unknown) => e instanceof DOMException && e.name === "SyntaxError",
    );
  });
});

describe("EventSource extras", { timeout: 30000 }, () => {
  test("init.lastEventId is sent on the first request; headers, method and body are sent", async () => {
    const url = server.define("extras", [
      { kind: "stream", chunks: ["data: ok\n\n"] },
      { kind: "status", status: 204 },
    ]);
    const source = new EventSource(url, {
      lastEventId: "41",
      retry: 10,
      method: "POST",
      body: "subscribe",
      headers: { "X-Token": "t" },
    });
    await nextError(source);
    await nextError(source);
    const [first] = server.requests("extras");
    assert.equal(first?.lastEventId, "41");
    assert.equal(first?.method, "POST");
    assert.equal(first?.body, "subscribe");
  });

  test("maxRetries: gives up with MAX_RETRIES after that many failed reconnects", async () => {
    const url = server.define("always-ends", [
      { kind: "status", status: 200, contentType: "text/event-stream" },
    ]);
    // A fetch that fails at the network level every time: nothing listens on port 9 of 127.0.0.2.
    let calls = 0;
    const source = new EventSource(url, {
      retry: 1,
      maxRetries: 3,
      fetch: (input, init) => {
        calls++;
        return fetch(input.replace(server.origin, "http://127.0.0.1:9"), init);
      },
    });
    const codes: string[] = [];
    await new Promise<void>((resolve) => {
      source.onerror = (event) => {
        codes.push(`${event.error?.code}:${source.readyState}`);
        if (source.readyState === EventSource.CLOSED) resolve();
      };
    });
    // The first attempt and two reconnects fail with NETWORK; the third failed reconnect closes it.
    assert.deepEqual(codes, ["NETWORK:0", "NETWORK:0", "NETWORK:0", "MAX_RETRIES:2"]);
    assert.equal(calls, 4);
  });

  test("backoff doubles per consecutive failure, is capped, and adds at most 10% jitter", () => {
    assert.equal(
      reconnectDelay(1000, 0, 30000, () => 0),
      1000,
    );
    assert.equal(
      reconnectDelay(1000, 3, 30000, () => 0),
      8000,
    );
    assert.equal(
      reconnectDelay(1000, 10, 30000, () => 0),
      30000,
    );
    assert.equal(
      reconnectDelay(1000, 0, 30000, () => 1),
      1100,
    );
    assert.equal(
      reconnectDelay(5000, 0, 1000, () => 0),
      5000,
      "the server's retry is never cut by the cap",
    );
  });
});

describe("documented behaviours of the eventsource package hold for ours", { timeout: 30000 }, () => {
  for (const [label, Impl] of [
    ["eventsource package", PackageEventSource],
    ["ssekit", EventSource],
  ] as const) {
    test(`${label}: a custom fetch can set request headers`, async () => {
      const name = `custom-fetch-${label.replace(/\W/g, "")}`;
      const url = server.define(name, [{ kind: "stream", chunks: ["data: one\n\n"] }]);
      const seen = new Promise<string>((resolve) => {
        const source = new Impl(url, {
          fetch: (input: string | URL | Request, init?: RequestInit) =>
            fetch(input, {
              ...init,
              headers: { ...Object.fromEntries(new Headers(init?.headers)), "Last-Event-ID": "from-fetch" },
            }),
        });
        source.onmessage = (event: MessageEvent) => {
          source.close();
          resolve(event.data as string);
        };
      });
      assert.equal(await seen, "one");
      assert.equal(server.requests(name)[0]?.lastEventId, "from-fetch");
    });

    test(`${label}: the error event has code (the status) and message`, async () => {
      const name = `unauthorized-${label.replace(/\W/g, "")}`;
      const url = server.define(name, [{ kind: "status", status: 401, body: "no" }]);
      const source = new Impl(url);
      const event = await new Promise<Event & { code?: number; message?: string }>((resolve) => {
        source.onerror = (e: Event) => resolve(e);
      });
      assert.equal(event.code, 401);
      assert.equal(typeof event.message, "string");
      assert.match(event.message ?? "", /401/);
      assert.equal(source.readyState, 2);
    });
  }
});

describe("where ours and the eventsource package differ", { timeout: 30000 }, () => {
  test("after a non-ASCII id the eventsource package cannot reconnect in Node (fetch refuses the header); ours sends its UTF-8 bytes", async () => {
    const scripts = [
      { kind: "stream" as const, chunks: ["retry: 10\nid: \u2603\ndata: a\n\n"] },
      { kind: "stream" as const, chunks: ["data: b\n\n"] },
      { kind: "status" as const, status: 204 },
    ];
    const theirs = new PackageEventSource(server.define("non-ascii-package", scripts));
    const reason = await new Promise<string>((resolve) => {
      let errors = 0;
      theirs.onerror = (event: Event & { message?: string }) => {
        // The first error is the end of the stream; the next ones are failed reconnects.
        if (++errors === 3) resolve(event.message ?? "");
      };
    });
    theirs.close();
    assert.match(reason, /ByteString/);
    assert.equal(server.requests("non-ascii-package").length, 1, "no reconnect reached the server");

    const result = await runScenario(EventSource, server.define("non-ascii-ours", scripts), server.origin);
    assert.equal(result.why, "closed");
    assert.ok(result.log.includes('message "b" "\u2603" readyState=1 origin=true url=true'));
    const resumed = server.requests("non-ascii-ours")[1]?.lastEventId ?? "";
    assert.equal(Buffer.from(resumed, "latin1").toString("utf8"), "\u2603");
  });

  test("an id in a block without data: the eventsource package reconnects with the id before it; ours, as Chromium, with it", async () => {
    const scripts = [
      { kind: "stream" as const, chunks: ["retry: 10\nid: 1\ndata: a\n\n", "id: 2\n\n"] },
      { kind: "stream" as const, chunks: ["data: b\n\n"] },
      { kind: "status" as const, status: 204 },
    ];
    for (const [name, Impl, resumedWith] of [
      ["id-only-package", PackageEventSource, "1"],
      ["id-only-ours", EventSource, "2"],
    ] as const) {
      const source = new Impl(server.define(name, scripts));
      await new Promise<void>((resolve) => {
        source.onerror = () => {
          if (source.readyState === 2) resolve();
        };
      });
      source.close();
      assert.deepEqual(
        server.requests(name).map((r) => r.lastEventId),
        [null, resumedWith, resumedWith],
        name,
      );
    }
  });
});
