// Polling failures (src/client/poll.ts and the loop in connection.ts): a poll the server refuses
// (a status other than 200, or a body that is not a poll batch) closes the EventSource for good; a
// poll the network breaks is retried, and the source opens again when a poll succeeds.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { EventSource, type SseErrorEvent } from "../../src/client/index.js";

type PollAnswer = "status" | "html" | "shape" | "drop" | "batch";

let answer: PollAnswer = "batch";
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.searchParams.get("poll") !== "1") {
    res.writeHead(200, { "content-type": "text/event-stream" }).end();
    return;
  }
  switch (answer) {
    case "status":
      res.writeHead(503, { "content-type": "application/json" }).end("{}");
      return;
    case "html":
      res.writeHead(200, { "content-type": "text/html" }).end("<p>not a batch</p>");
      return;
    case "shape":
      res.writeHead(200, { "content-type": "application/json" }).end('{"events":1}');
      return;
    case "drop":
      req.socket.destroy();
      return;
    case "batch":
      // The first poll gets one event; later ones (from id 1) are held like an empty long poll.
      if (url.searchParams.get("lastEventID") === "1") return;
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ events: [{ type: "message", data: "x", id: "1" }], lastEventId: "1" }));
      return;
  }
});
let origin = "";
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A fetch whose event-stream responses have no body stream, so the source polls at once. */
const bodylessFetch = async (input: string, init: RequestInit): Promise<Response> => {
  const response = await fetch(input, init);
  if (!new Headers(init.headers).get("accept")?.includes("text/event-stream")) return response;
  await response.body?.cancel();
  return new Response(null, { status: response.status, headers: response.headers });
};

const nextError = (source: EventSource) =>
  new Promise<SseErrorEvent>((resolve) =>
    source.addEventListener("error", (event) => resolve(event as SseErrorEvent), { once: true }),
  );

function polling(): EventSource {
  return new EventSource(`${origin}/live`, { fetch: bodylessFetch, fallback: "poll", retry: 20 });
}

describe("polling failures", { timeout: 20000 }, () => {
  for (const [refusal, code] of [
    ["status", "HTTP_STATUS"],
    ["html", "POLL_RESPONSE"],
    ["shape", "POLL_RESPONSE"],
  ] as const) {
    test(`a poll answered with ${refusal === "status" ? "503" : `a wrong body (${refusal})`} closes the source with ${code}`, async () => {
      answer = refusal;
      const source = polling();
      try {
        const error = await nextError(source);
        assert.equal(error.error?.code, code);
        assert.equal(source.readyState, EventSource.CLOSED);
      } finally {
        source.close();
      }
    });
  }

  test("a poll the network breaks is retried: CONNECTING with NETWORK, then open and events", async () => {
    answer = "drop";
    const source = polling();
    try {
      const error = await nextError(source);
      assert.equal(error.error?.code, "NETWORK");
      assert.equal(source.readyState, EventSource.CONNECTING);
      const message = new Promise<MessageEvent>((resolve) => {
        source.onmessage = resolve;
      });
      answer = "batch";
      const event = await message;
      assert.equal(event.data, "x");
      assert.equal(event.lastEventId, "1");
      assert.equal(source.readyState, EventSource.OPEN);
    } finally {
      source.close();
    }
  });
});
