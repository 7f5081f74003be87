import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { createParser, type EventMessage, encodeBytes, type ParsedEvent } from "ssekit/protocol";

// Text that stresses the encoder and the parser: any Unicode (astral characters too), line breaks of
// every kind, and the characters that mean something in the format.
const tricky = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "grapheme" }) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.constantFrom("\r", "\n", "\r\n", ":", " ", "data", "é", "😀", "\ufeff", "x"),
    }),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary" }) },
);
const noBreak = (s: string) => s.replace(/[\r\n]/g, "");
const message: fc.Arbitrary<EventMessage> = fc.record(
  {
    data: tricky,
    event: tricky.map(noBreak).filter((s) => s !== ""),
    id: tricky.map((s) => noBreak(s).replace(/\0/g, "")),
  },
  { requiredKeys: ["data"] },
);

/** What a client must see for a sequence of encoded messages. */
function expected(messages: readonly EventMessage[]): ParsedEvent[] {
  let lastEventId = "";
  return messages.map((m) => {
    if (m.id !== undefined) lastEventId = m.id;
    return { type: m.event ?? "message", data: (m.data ?? "").replace(/\r\n|\r/g, "\n"), lastEventId };
  });
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test("parsing the encoding of any messages, split anywhere, gives the messages back", () => {
  fc.assert(
    fc.property(
      fc.array(message, { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (messages, cuts) => {
        const stream = concat(messages.map(encodeBytes));
        // Arbitrary split points: inside multi-byte sequences and between CR and LF included.
        const points = [...new Set(cuts.map((c) => (stream.length === 0 ? 0 : c % stream.length)))].sort(
          (a, b) => a - b,
        );
        const events: ParsedEvent[] = [];
        const parser = createParser({ onEvent: (e) => events.push(e) });
        let from = 0;
        for (const p of [...points, stream.length]) {
          parser.feed(stream.subarray(from, p));
          from = p;
        }
        parser.end();
        assert.deepEqual(events, expected(messages));
      },
    ),
    { numRuns: 1500 },
  );
});

test("every split of a stream with CRLF and multi-byte text parses the same", () => {
  const messages: EventMessage[] = [
    { data: "a\r\nb😀", id: "é1", event: "t" },
    { data: "\r\n", id: "" },
    { data: "€", event: "x" },
  ];
  const stream = concat(messages.map(encodeBytes));
  const want = expected(messages);
  for (let i = 0; i <= stream.length; i++) {
    for (let j = i; j <= stream.length; j += 3) {
      const events: ParsedEvent[] = [];
      const parser = createParser({ onEvent: (e) => events.push(e) });
      parser.feed(stream.subarray(0, i));
      parser.feed(stream.subarray(i, j));
      parser.feed(stream.subarray(j));
      parser.end();
      assert.deepEqual(events, want, `split at ${i} and ${j}`);
    }
  }
});
