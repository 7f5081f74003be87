// events(): one streamed response as an async iterator — POST with a JSON body (the LLM shape),
// ends with the stream, aborts the request on break and on an AbortSignal, throws typed errors.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { events, SseClientError } from "../../src/client/index.js";
import { type FixtureServer, startFixtureServer } from "../support/fixture-server.js";

let server: FixtureServer;
before(async () => {
  server = await startFixtureServer();
});
after(() => server.close());

describe("events()", { timeout: 20000 }, () => {
  test("POSTs a JSON body and yields every event until the stream ends", async () => {
    const url = server.define("tokens", [
      {
        kind: "stream",
        chunks: ["data: Hel", 'lo\n\nevent: usage\nid: 9\ndata: {"tokens":2}\n\n', "data: [DONE]\n\n"],
      },
    ]);
    const seen: string[] = [];
    for await (const event of events(url, { body: { prompt: "hi" } })) {
      seen.push(`${event.type}:${event.data}:${event.lastEventId}`);
    }
    assert.deepEqual(seen, ["message:Hello:", 'usage:{"tokens":2}:9', "message:[DONE]:9"]);
    const [request] = server.requests("tokens");
    assert.equal(request?.method, "POST");
    assert.deepEqual(JSON.parse(request?.body ?? ""), { prompt: "hi" });
    assert.equal(request?.accept, "text/event-stream");
  });

  test("break ends the request: the server sees the stream close", async () => {
    const url = server.define("endless", [
      { kind: "stream", chunks: ["data: 1\n\n", "data: 2\n\n"], hold: true },
    ]);
    for await (const event of events(url)) {
      assert.equal(event.data, "1");
      break;
    }
    await server.waitForStreams((open) => open === 0);
  });

  test("an AbortSignal ends the iteration with its reason and closes the request", async () => {
    const url = server.define("held", [{ kind: "stream", chunks: ["data: first\n\n"], hold: true }]);
    const controller = new AbortController();
    const reason = new Error("user stopped");
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const event of events(url, { signal: controller.signal })) {
        seen.push(event.data);
        controller.abort(reason);
      }
    }, reason);
    assert.deepEqual(seen, ["first"]);
    await server.waitForStreams((open) => open === 0);
  });

  test("a non-200 status or a wrong Content-Type throws SseClientError with the reason", async () => {
    const denied = server.define("denied", [{ kind: "status", status: 429, body: "slow down" }]);
    await assert.rejects(
      async () => {
        for await (const _ of events(denied)) assert.fail("no event expected");
      },
      (e: unknown) => e instanceof SseClientError && e.code === "HTTP_STATUS" && e.status === 429,
    );
    const json = server.define("json", [
      { kind: "status", status: 200, contentType: "application/json", body: "{}" },
    ]);
    await assert.rejects(
      async () => {
        for await (const _ of events(json)) assert.fail("no event expected");
      },
      (e: unknown) =>
        e instanceof SseClientError && e.code === "CONTENT_TYPE" && e.contentType === "application/json",
    );
  });

  test("a network failure throws SseClientError NETWORK with the cause", async () => {
    await assert.rejects(
      async () => {
        for await (const _ of events("http://127.0.0.1:9/")) assert.fail("no event expected");
      },
      (e: unknown) => e instanceof SseClientError && e.code === "NETWORK" && e.cause !== undefined,
    );
  });
});
