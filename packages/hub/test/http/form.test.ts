// The strict form decoder of publish bodies (http/form.ts): property tests against URLSearchParams.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { FormEncodingError, formFields, parseForm } from "../../src/http/form.js";

const PIECES = [
  ...["a", "=", "&", "+", "%", "%2", "%41", "%zz", "%C3%A9", "%C3", "%FF", "%E2%9C%93", "é"],
  // Escapes of ASCII bytes, decoded without decodeURIComponent: either case, NUL, DEL, % itself.
  ...["%2f", "%3A", "%00", "%7F", "%7f", "%25", "%2B", "%80", "%4g", "%g4"],
];

/** `formFields`' answer as URLSearchParams entries, for comparison. */
const entriesOf = (text: string) => formFields(text, "form field").map(({ name, value }) => [name, value]);

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
    const piece = fc.constantFrom(...PIECES);
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

  test("formFields: what URLSearchParams encodes decodes to the same fields, in order (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }))),
        (entries) => {
          const text = new URLSearchParams(entries).toString();
          assert.deepEqual(entriesOf(text), [...new URLSearchParams(text)]);
        },
      ),
    );
  });

  test("formFields: on any text it refuses exactly what parseForm refuses, with the same message, else agrees with URLSearchParams (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }), (pieces) => {
        const text = pieces.join("");
        let expected: unknown;
        try {
          parseForm(text, "form field");
        } catch (error) {
          expected = error;
        }
        if (expected === undefined) {
          assert.deepEqual(entriesOf(text), [...new URLSearchParams(text)]);
          return;
        }
        assert.ok(expected instanceof FormEncodingError);
        assert.throws(() => formFields(text, "form field"), {
          name: "FormEncodingError",
          message: expected.message,
        });
      }),
    );
  });

  test("formFields: empty pairs are skipped, a pair without = has an empty value, + is a space", () => {
    assert.deepEqual(formFields("&&topic=a+b&&private&data=%2B=x&", "form field"), [
      { name: "topic", value: "a b" },
      { name: "private", value: "" },
      { name: "data", value: "+=x" },
    ]);
  });
});
