// The strict form decoder of publish bodies (http/form.ts): property tests against URLSearchParams.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { FormEncodingError, parseForm } from "../../src/http/form.js";

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
