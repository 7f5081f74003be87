/**
 * HTTP/1.1 chunked transfer framing of one event frame (`<hex size>\r\n<bytes>\r\n`), so that a
 * broadcast frames once and every HTTP/1.1 socket gets the same bytes in a single write. No I/O;
 * only Node sinks use the result, so it is a Buffer (a socket takes it as it is, where a plain
 * Uint8Array would be wrapped in a new Buffer on every write). Runtimes without Buffer never
 * reach it: `Framed` frames only when a Node sink asks.
 */

export function chunkFrame(bytes: Uint8Array): Buffer {
  const size = `${bytes.byteLength.toString(16)}\r\n`;
  const out = Buffer.allocUnsafe(size.length + bytes.byteLength + 2);
  out.write(size, 0, "latin1");
  out.set(bytes, size.length);
  out.write("\r\n", size.length + bytes.byteLength, "latin1");
  return out;
}

/** A frame's chunked form, computed at most once however many sessions ask for it. */
export class Framed {
  #chunked: Buffer | undefined;
  constructor(readonly bytes: Uint8Array) {}
  get chunked(): Buffer {
    this.#chunked ??= chunkFrame(this.bytes);
    return this.#chunked;
  }
}
