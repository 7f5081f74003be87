import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createParser } from "ssekit/protocol";
import { bytes, parseAll, parseChunks } from "./collect.js";

const ev = (data: string, type = "message", lastEventId = "") => ({ type, data, lastEventId });

describe("createParser: lines", () => {
  test("LF ends a line", () => {
    assert.deepEqual(parseAll("data: a\n\n"), [ev("a")]);
  });
  test("CR alone ends a line", () => {
    assert.deepEqual(parseAll("data: a\r\r"), [ev("a")]);
  });
  test("CRLF ends a line once, not twice", () => {
    assert.deepEqual(parseAll("data: a\r\ndata: b\r\n\r\n"), [ev("a\nb")]);
  });
  test("CR at the end of one chunk and LF at the start of the next is one line break", () => {
    assert.deepEqual(parseChunks(["data: a\r", "\ndata: b\r", "\n\r", "\n"]).events, [ev("a\nb")]);
    assert.deepEqual(
      parseChunks([bytes("data: a\r"), bytes("\ndata: b\r"), bytes("\n\r"), bytes("\n")]).events,
      [ev("a\nb")],
    );
  });
  test("CR at the end of a chunk followed by a non-LF starts the next line", () => {
    assert.deepEqual(parseChunks(["data: a\r", "data: b\r", "\r"]).events, [ev("a\nb")]);
  });
  test("a line split across many chunks is one line", () => {
    assert.deepEqual(parseChunks(["da", "ta", ":", " he", "llo", "\n", "\n"]).events, [ev("hello")]);
  });
  test("an empty string chunk between CR and LF does not make two line breaks", () => {
    assert.deepEqual(parseChunks(["data: a\r", "", "\ndata: b\n\n"]).events, [ev("a\nb")]);
  });
  test("bytes and strings fed in turn keep their order", () => {
    const { events } = parseChunks([bytes("data: a"), "b\n", bytes("data: c"), bytes([0xc3]), "\n\n"]);
    assert.deepEqual(events, [ev("ab\nc\ufffd")]);
  });
  test("mixed line endings in one stream", () => {
    assert.deepEqual(parseAll("data: 1\rdata: 2\ndata: 3\r\n\n"), [ev("1\n2\n3")]);
  });
});

describe("createParser: fields", () => {
  test("removes a single space after the colon, not two", () => {
    assert.deepEqual(parseAll("data:  two\n\n"), [ev(" two")]);
  });
  test("keeps the value when there is no space after the colon", () => {
    assert.deepEqual(parseAll("data:x\n\n"), [ev("x")]);
  });
  test("a line without a colon is a field name with an empty value", () => {
    assert.deepEqual(parseAll("data\n\n"), [ev("")]);
    assert.deepEqual(parseAll("data\ndata\n\n"), [ev("\n")]);
  });
  test("a line cut short inside a field name is that shorter name, not data, event or id", () => {
    assert.deepEqual(parseAll("dat\nevent\nid\ndata: x\n\n"), [ev("x")]);
    assert.deepEqual(parseChunks(["id: 1\nda", "ta\nevent", ": t\n\n"]).events, [ev("", "t", "1")]);
    assert.deepEqual(parseChunks(["id: 1\nda", "t\n\n"]).events, []);
  });
  test("data:, event: and id: with a space in the name are unknown fields", () => {
    assert.deepEqual(parseAll("data :a\nevent :t\nid :7\ndata: b\n\n"), [ev("b")]);
  });
  test("only the first colon separates name and value", () => {
    assert.deepEqual(parseAll("data: a:b: c\n\n"), [ev("a:b: c")]);
  });
  test("field names are case-sensitive", () => {
    assert.deepEqual(parseAll("Data: a\nDATA: b\n\n"), []);
  });
  test("unknown fields are ignored", () => {
    assert.deepEqual(parseAll("foo: bar\ndata: a\nbaz\n\n"), [ev("a")]);
  });
  test("event sets the type, which defaults to message", () => {
    assert.deepEqual(parseAll("event: price\ndata: 1\n\ndata: 2\n\n"), [ev("1", "price"), ev("2")]);
  });
  test("an empty event name means message", () => {
    assert.deepEqual(parseAll("event:\ndata: 1\n\n"), [ev("1")]);
  });
  test("the last event field before dispatch wins", () => {
    assert.deepEqual(parseAll("event: a\nevent: b\ndata: 1\n\n"), [ev("1", "b")]);
  });
  test("data lines are joined with LF", () => {
    assert.deepEqual(parseAll("data: a\ndata:\ndata: c\n\n"), [ev("a\n\nc")]);
  });
  test("an empty data field dispatches an event with empty data", () => {
    assert.deepEqual(parseAll("data:\n\n"), [ev("")]);
  });
});

describe("createParser: ids", () => {
  test("id sets lastEventId for the event", () => {
    assert.deepEqual(parseAll("id: 7\ndata: a\n\n"), [ev("a", "message", "7")]);
  });
  test("the last event id persists across events", () => {
    assert.deepEqual(parseAll("id: 1\ndata: a\n\ndata: b\n\n"), [
      ev("a", "message", "1"),
      ev("b", "message", "1"),
    ]);
  });
  test("an empty id field resets the last event id", () => {
    assert.deepEqual(parseAll("id: 1\ndata: a\n\nid\ndata: b\n\n"), [ev("a", "message", "1"), ev("b")]);
  });
  test("ignores an id containing NUL", () => {
    assert.deepEqual(parseAll("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"), [
      ev("a", "message", "1"),
      ev("b", "message", "1"),
    ]);
  });
  test("an id in a block without data still updates the last event id", () => {
    assert.deepEqual(parseAll("id: 5\n\ndata: a\n\n"), [ev("a", "message", "5")]);
  });
  test("onLastEventId reports an id set by a block without data, at its blank line, once", () => {
    const ids: string[] = [];
    const events: string[] = [];
    const parser = createParser({
      onEvent: (e) => events.push(`${e.data}@${e.lastEventId}`),
      onLastEventId: (id) => ids.push(id),
    });
    parser.feed("id: 1\n");
    assert.deepEqual(ids, [], "not before the blank line");
    parser.feed("\n\nid: 1\n\nid: 2\nevent: x\n\r\ndata: a\n\nid\r\r");
    assert.deepEqual(ids, ["1", "2", ""], "an unchanged id is not reported again; an empty id clears");
    assert.deepEqual(events, ["a@2"]);
    parser.feed("id: 3\n");
    parser.end();
    assert.deepEqual(ids, ["1", "2", ""], "an unfinished block sets nothing");
  });
});

describe("createParser: dispatch", () => {
  test("an event is dispatched only at a blank line", () => {
    const collected: string[] = [];
    const parser = createParser({ onEvent: (e) => collected.push(e.data) });
    parser.feed("data: a\n");
    assert.deepEqual(collected, []);
    parser.feed("\n");
    assert.deepEqual(collected, ["a"]);
  });
  test("no event is dispatched when the data buffer is empty", () => {
    assert.deepEqual(parseAll("event: x\n\nid: 3\n\n: comment\n\n"), []);
  });
  test("the event type is reset at a blank line even when nothing is dispatched", () => {
    assert.deepEqual(parseAll("event: x\n\ndata: a\n\n"), [ev("a")]);
  });
  test("end() discards an event that has no blank line", () => {
    assert.deepEqual(parseChunks(["data: a\n\ndata: b\n"]).events, [ev("a")]);
    assert.deepEqual(parseChunks(["data: a\n\ndata: b"]).events, [ev("a")]);
  });
  test("end() keeps the last event id for the next stream", () => {
    const got: string[] = [];
    const parser = createParser({ onEvent: (e) => got.push(e.lastEventId) });
    parser.feed("id: 9\ndata: a\n\n");
    parser.end();
    parser.feed("data: b\n\n");
    assert.deepEqual(got, ["9", "9"]);
  });
  test("reset() forgets pending data and the last event id", () => {
    const got: unknown[] = [];
    const parser = createParser({ onEvent: (e) => got.push(e) });
    parser.feed("id: 1\ndata: a\n\ndata: partial\n");
    parser.reset();
    parser.feed("data: b\n\n");
    assert.deepEqual(got, [ev("a", "message", "1"), ev("b")]);
  });
});

describe("createParser: retry and comments", () => {
  test("retry with only ASCII digits is reported", () => {
    assert.deepEqual(parseChunks(["retry: 2500\n\n"]).retries, [2500]);
  });
  test("retry with anything but ASCII digits is ignored", () => {
    assert.deepEqual(
      parseChunks(["retry: 25.5\nretry: -1\nretry: 1e3\nretry:\nretry: ١٢\nretry:  5\n"]).retries,
      [],
    );
  });
  test("retry does not dispatch an event", () => {
    assert.deepEqual(parseChunks(["retry: 10\n\n"]).events, []);
  });
  test("comments are reported without the colon and one space", () => {
    assert.deepEqual(parseChunks([": hello\n:\n:  two\n"]).comments, ["hello", "", " two"]);
  });
  test("comments do not dispatch or touch data", () => {
    assert.deepEqual(parseAll("data: a\n: c\ndata: b\n\n"), [ev("a\nb")]);
  });
});

describe("createParser: encoding", () => {
  test("strips one leading BOM, not two", () => {
    assert.deepEqual(parseChunks([bytes([0xef, 0xbb, 0xbf], "data: a\n\n")]).events, [ev("a")]);
    assert.deepEqual(
      parseChunks([bytes([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], "data: a\n\ndata: b\n\n")]).events,
      [ev("b")],
    );
    assert.deepEqual(parseChunks(["\ufeffdata: a\n\n"]).events, [ev("a")]);
    assert.deepEqual(parseChunks(["\ufeff\ufeffdata: a\n\n"]).events, []);
  });
  test("a BOM split across chunks is still stripped", () => {
    assert.deepEqual(parseChunks([bytes([0xef]), bytes([0xbb]), bytes([0xbf], "data: a\n\n")]).events, [
      ev("a"),
    ]);
  });
  test("a BOM after the start of the stream is not stripped", () => {
    assert.deepEqual(parseChunks(["data: a\n\n", "\ufeffdata: b\n\n"]).events, [ev("a")]);
  });
  test("multi-byte UTF-8 split across chunks decodes whole", () => {
    const all = bytes("data: é😀€\n\n");
    for (let i = 1; i < all.length; i++) {
      assert.deepEqual(
        parseChunks([all.subarray(0, i), all.subarray(i)]).events,
        [ev("é😀€")],
        `split at ${i}`,
      );
    }
  });
  test("invalid UTF-8 becomes U+FFFD", () => {
    assert.deepEqual(parseChunks([bytes("data: a", [0xff, 0xc3], "b\n\n")]).events, [ev("a\ufffd\ufffdb")]);
  });
  test("a truncated sequence at the end of a line becomes U+FFFD", () => {
    assert.deepEqual(parseChunks([bytes("data: ", [0xe2, 0x82]), bytes("\n\n")]).events, [ev("\ufffd")]);
  });
  test("bytes decode the same in tiny and large chunks", () => {
    // Longer than the small-chunk threshold, so that the whole-chunk path is taken too.
    const stream = bytes(
      `: ${"padding ".repeat(12)}\nevent: t\nid: é\ndata: x😀\r\ndata: y\r\r`,
      [0xef],
      "data: z\n\n",
    );
    const whole = parseChunks([stream]).events;
    const tiny = parseChunks(Array.from(stream, (b) => Uint8Array.of(b))).events;
    assert.deepEqual(tiny, whole);
    assert.equal(whole.length, 1); // the stray 0xEF turns the last line into an unknown field
  });
});
