/**
 * Strict `application/x-www-form-urlencoded` decoding, for publish bodies and request queries.
 * `URLSearchParams` never fails: it keeps a malformed escape such as `%zz` as literal text and
 * turns escapes of bytes that are not UTF-8 into U+FFFD, so a publisher's typo would be stored
 * silently altered. Here both are refused with a `FormEncodingError` naming the field, as the
 * Mercure protocol requires field names and values to be UTF-8. Not responsible for what the
 * fields mean (publish.ts, selectors.ts).
 */
import { isUtf8 } from "node:buffer";

/** Form text that is not percent-encoded UTF-8. */
export class FormEncodingError extends Error {
  readonly code = "FORM_ENCODING_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "FormEncodingError";
  }
}

const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

function excerpt(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** The field name of one `name=value` pair, decoded when possible, for error messages. */
function fieldName(pair: string): string {
  const raw = pair.split("=", 1)[0] ?? "";
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
}

/** Escapes of bytes 0x80 and above: only these can fail to be UTF-8. */
const HIGH_ESCAPE = /%[89A-Fa-f][0-9A-Fa-f]/;

/**
 * Decodes `text` as `URLSearchParams` does, after checking that every `%` starts an escape of two
 * hexadecimal digits and that the escaped bytes of every name and value are UTF-8.
 * `what` names the kind of field in messages: "form field", "query parameter".
 */
export function parseForm(text: string, what: string): URLSearchParams {
  // The common case (no escapes, or only ASCII ones, all well formed) costs two regex scans.
  if (text.includes("%") && (MALFORMED_ESCAPE.test(text) || HIGH_ESCAPE.test(text))) checkPairs(text, what);
  return new URLSearchParams(text);
}

/** One `name=value` pair of a form, decoded. */
export interface FormField {
  readonly name: string;
  readonly value: string;
}

/** `part` of a pair, decoded as the form parser does; throws URIError on a bad escape. */
function decodePart(part: string): string {
  const spaced = part.includes("+") ? part.replaceAll("+", " ") : part;
  return spaced.includes("%") ? (decodeAscii(spaced) ?? decodeURIComponent(spaced)) : spaced;
}

/** The value of each hexadecimal digit by its char code, -1 for other ASCII characters. */
const HEX_VALUE = Int8Array.from({ length: 128 }, (_, code) => {
  const digit = String.fromCharCode(code);
  return /[0-9a-fA-F]/.test(digit) ? Number.parseInt(digit, 16) : -1;
});

/** The value of the hexadecimal digit at `index` of `text`, or -1 (not one, or past the end). */
function hexAt(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code < 128 ? (HEX_VALUE[code] ?? -1) : -1;
}

/**
 * `text` with its escapes decoded when every one is of an ASCII byte (%00 to %7F), as topics that
 * are URLs have them (`%3A`, `%2F`): the same characters decodeURIComponent gives, without its
 * cost. Undefined when an escape is malformed or of a byte above 0x7F, for decodeURIComponent
 * to decode as UTF-8 or refuse.
 */
function decodeAscii(text: string): string | undefined {
  let decoded = "";
  let from = 0;
  for (let at = text.indexOf("%"); at !== -1; at = text.indexOf("%", from)) {
    const high = hexAt(text, at + 1);
    const low = hexAt(text, at + 2);
    if (high < 0 || high > 7 || low < 0) return undefined;
    decoded += text.slice(from, at) + String.fromCharCode(high * 16 + low);
    from = at + 3;
  }
  return decoded + text.slice(from);
}

/**
 * The fields of `text` in order, decoded exactly as `URLSearchParams` decodes them (WHATWG URL,
 * application/x-www-form-urlencoded parsing: empty pairs skipped, the first `=` splits, `+` is a
 * space) and refused as `parseForm` refuses them. One pass that allocates only the fields, for
 * publish bodies: no `URLSearchParams` in between, and a pair without `%` or `+` is its own text.
 */
export function formFields(text: string, what: string): FormField[] {
  const fields: FormField[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("&", start);
    if (end === -1) end = text.length;
    if (end > start) {
      const eq = text.indexOf("=", start);
      const split = eq !== -1 && eq < end;
      const name = text.slice(start, split ? eq : end);
      const value = split ? text.slice(eq + 1, end) : "";
      try {
        fields.push({ name: decodePart(name), value: decodePart(value) });
      } catch {
        // decodeURIComponent refuses exactly what parseForm refuses: say which pair and why.
        checkPairs(text, what);
        throw new FormEncodingError(`the ${what} "${fieldName(name)}" could not be decoded`);
      }
    }
    start = end + 1;
  }
  return fields;
}

/** Finds the pair whose escapes are malformed or not UTF-8, and says which. */
function checkPairs(text: string, what: string): void {
  for (const pair of text.split("&")) {
    if (!pair.includes("%")) continue;
    const bad = MALFORMED_ESCAPE.exec(pair);
    if (bad !== null) {
      throw new FormEncodingError(
        `the ${what} "${fieldName(pair)}" has a malformed percent escape ${excerpt(pair.slice(bad.index, bad.index + 3))}; write a literal % as %25`,
      );
    }
    for (const part of pair.split("=")) {
      try {
        decodeURIComponent(part);
      } catch {
        throw new FormEncodingError(
          `the ${what} "${fieldName(pair)}" is not UTF-8 once decoded (${excerpt(part)}); percent-encode the UTF-8 bytes of the text`,
        );
      }
    }
  }
}

/** Decodes a body as UTF-8 text, refusing bytes that are not UTF-8 instead of replacing them. */
export function utf8Text(body: Buffer, what: string): string {
  if (!isUtf8(body)) throw new FormEncodingError(`${what} is not valid UTF-8`);
  return body.toString("utf8");
}
