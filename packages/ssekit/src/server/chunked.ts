/**
 * HTTP/1.1 chunked transfer framing of one event frame (`<hex size>\r\n<bytes>\r\n`), so that a
 * broadcast frames once and every HTTP/1.1 socket gets the same bytes in a single write. Pure
 * Uint8Array work, no I/O; only the Node sink uses the result.
 */

const CRLF_0 = 0x0d;
const CRLF_1 = 0x0a;

export function chunkFrame(bytes: Uint8Array): Uint8Array {
  const size = bytes.byteLength.toString(16);
  const out = new Uint8Array(size.length + 2 + bytes.byteLength + 2);
  for (let i = 0; i < size.length; i++) out[i] = size.charCodeAt(i);
  out[size.length] = CRLF_0;
  out[size.length + 1] = CRLF_1;
  out.set(bytes, size.length + 2);
  out[out.length - 2] = CRLF_0;
  out[out.length - 1] = CRLF_1;
  return out;
}

/** A frame's chunked form, computed at most once however many sessions ask for it. */
export class Framed {
  #chunked: Uint8Array | undefined;
  constructor(readonly bytes: Uint8Array) {}
  get chunked(): Uint8Array {
    this.#chunked ??= chunkFrame(this.bytes);
    return this.#chunked;
  }
}
