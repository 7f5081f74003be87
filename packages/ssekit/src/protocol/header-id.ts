/**
 * An event id in an HTTP header (`Last-Event-ID`): browsers send a non-ASCII id as its UTF-8 bytes,
 * and JavaScript HTTP stacks show a header as one character per byte. These two functions convert
 * between the id and that byte string. Pure; reading and writing headers is the caller's.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, which needs no change
const ASCII = /^[\x00-\x7f]*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: one character per byte, as headers are read
const BYTE_STRING = /^[\x00-\xff]*$/;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The header value that carries `id` as UTF-8 bytes, one character per byte (ASCII ids unchanged).
 * Node's `setHeader`/`writeHead` and fetch's `Headers` put each such character on the wire as one
 * byte, so the bytes are what a browser's EventSource sends for the same id.
 */
export function encodeHeaderId(id: string): string {
  if (ASCII.test(id)) return id;
  let out = "";
  for (const byte of new TextEncoder().encode(id)) out += String.fromCharCode(byte);
  return out;
}

/**
 * The id a header value carries: its bytes decoded as UTF-8, as browsers encode it. A value that
 * is not valid UTF-8 (a client that sent Latin-1) is returned as it came, one character per byte.
 */
export function decodeHeaderId(value: string): string {
  if (ASCII.test(value) || !BYTE_STRING.test(value)) return value;
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return value;
  }
}
