import assert from "node:assert/strict";
import { test } from "node:test";
import { EventStreamParser, encodeBytes, type ParsedEvent } from "ssekit/protocol";

async function collect(readable: ReadableStream<ParsedEvent>): Promise<ParsedEvent[]> {
  const out: ParsedEvent[] = [];
  for await (const event of readable as unknown as AsyncIterable<ParsedEvent>) out.push(event);
  return out;
}

test("EventStreamParser turns a byte stream into events", async () => {
  const bytes = encodeBytes({ data: "a\nb", id: "1", event: "t" });
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const b of bytes) controller.enqueue(Uint8Array.of(b));
      controller.enqueue(encodeBytes({ data: "c" }));
      controller.close();
    },
  });
  assert.deepEqual(await collect(source.pipeThrough(new EventStreamParser())), [
    { type: "t", data: "a\nb", lastEventId: "1" },
    { type: "message", data: "c", lastEventId: "1" },
  ]);
});

test("EventStreamParser drops an unterminated event at the end and reports retry and comments", async () => {
  const retries: number[] = [];
  const comments: string[] = [];
  const source = new ReadableStream<string>({
    start(controller) {
      controller.enqueue(": hi\nretry: 500\ndata: x\n\ndata: partial");
      controller.close();
    },
  });
  const parser = new EventStreamParser({
    onRetry: (ms) => retries.push(ms),
    onComment: (c) => comments.push(c),
  });
  assert.deepEqual(await collect(source.pipeThrough(parser)), [
    { type: "message", data: "x", lastEventId: "" },
  ]);
  assert.deepEqual(retries, [500]);
  assert.deepEqual(comments, ["hi"]);
});

test("EventStreamParser works on a real fetch response body", async () => {
  const { createServer } = await import("node:http");
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("data: one\n\n");
    res.end("id: 2\ndata: two\n\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const address = server.address();
    assert.ok(address && typeof address === "object");
    const response = await fetch(`http://127.0.0.1:${address.port}/`);
    assert.ok(response.body);
    const events = await collect(response.body.pipeThrough(new EventStreamParser()));
    assert.deepEqual(
      events.map((e) => [e.data, e.lastEventId]),
      [
        ["one", ""],
        ["two", "2"],
      ],
    );
  } finally {
    server.close();
  }
});
