import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  decodeHeaderId,
  encode,
  encodeBytes,
  encodeComment,
  encodeHeaderId,
  SseEncodeError,
} from "ssekit/protocol";

describe("encode", () => {
  test("writes fields in order and ends with a blank line", () => {
    assert.equal(
      encode({ event: "price", id: "7", retry: 1000, data: "x" }),
      "event: price\nid: 7\nretry: 1000\ndata: x\n\n",
    );
  });
  test("splits data on LF, CR and CRLF into data lines", () => {
    assert.equal(encode({ data: "a\nb\rc\r\nd" }), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  });
  test("keeps empty lines and a trailing line break in data", () => {
    assert.equal(encode({ data: "\n" }), "data: \ndata: \n\n");
    assert.equal(encode({ data: "" }), "data: \n\n");
  });
  test("keeps a leading space in data (the parser removes only the one after the colon)", () => {
    assert.equal(encode({ data: " x" }), "data:  x\n\n");
  });
  test("an empty id is written as a bare id field, which resets the client's last id", () => {
    assert.equal(encode({ id: "", data: "x" }), "id\ndata: x\n\n");
  });
  test("comments become colon lines, one per line of text", () => {
    assert.equal(encode({ comment: "hi\nthere" }), ": hi\n: there\n\n");
    assert.equal(encodeComment(), ":\n\n");
  });
  test("an empty message encodes to nothing", () => {
    assert.equal(encode({}), "");
  });
  test("encodeBytes is the UTF-8 of encode", () => {
    const message = { data: "é😀", id: "1" };
    assert.deepEqual(encodeBytes(message), new TextEncoder().encode(encode(message)));
  });
});

describe("encode: validation", () => {
  const rejects = (message: object, field: string, code: string) => {
    assert.throws(
      () => encode(message),
      (error: unknown) =>
        error instanceof TypeError &&
        error instanceof SseEncodeError &&
        error.code === code &&
        error.field === field &&
        error.message.includes(field === "event" ? "event name" : field),
    );
  };
  test("rejects CR or LF in the event name", () => {
    rejects({ event: "a\nb", data: "" }, "event", "INVALID_EVENT");
    rejects({ event: "a\rb", data: "" }, "event", "INVALID_EVENT");
  });
  test("rejects CR, LF or NUL in the id", () => {
    rejects({ id: "1\n2" }, "id", "INVALID_ID");
    rejects({ id: "1\r" }, "id", "INVALID_ID");
    rejects({ id: "a\0b" }, "id", "INVALID_ID");
  });
  test("rejects a negative, fractional or non-number retry", () => {
    rejects({ retry: -1 }, "retry", "INVALID_RETRY");
    rejects({ retry: 1.5 }, "retry", "INVALID_RETRY");
    rejects({ retry: Number.NaN }, "retry", "INVALID_RETRY");
    rejects({ retry: "10" }, "retry", "INVALID_RETRY");
  });
  test("rejects non-string data with a hint to serialize", () => {
    assert.throws(() => encode({ data: { a: 1 } as unknown as string }), /serialize/);
  });
  test("the error message quotes the bad value", () => {
    assert.throws(() => encode({ event: "a\nb" }), {
      message: 'event name must not contain CR or LF (got "a\\nb")',
    });
  });
});

describe("encodeHeaderId / decodeHeaderId", () => {
  test("a non-ASCII id travels as its UTF-8 bytes, one character per byte, and comes back", () => {
    const value = encodeHeaderId("\u2603\u20ac");
    assert.deepEqual(
      Array.from(value, (c) => c.charCodeAt(0)),
      [0xe2, 0x98, 0x83, 0xe2, 0x82, 0xac],
    );
    assert.equal(decodeHeaderId(value), "\u2603\u20ac");
  });
  test("ASCII ids are unchanged both ways", () => {
    assert.equal(encodeHeaderId("urn:uuid:1"), "urn:uuid:1");
    assert.equal(decodeHeaderId("urn:uuid:1"), "urn:uuid:1");
  });
  test("a value that is not UTF-8 (a Latin-1 client) is kept as it came", () => {
    assert.equal(decodeHeaderId("caf\u00e9"), "caf\u00e9");
  });
  test("any id without CR, LF or NUL round-trips", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (id) => {
        fc.pre(!/[\r\n\0]/.test(id));
        assert.equal(decodeHeaderId(encodeHeaderId(id)), id);
      }),
    );
  });
});
