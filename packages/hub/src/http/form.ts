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
  return spaced.includes("%") ? decodeURIComponent(spaced) : spaced;
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
