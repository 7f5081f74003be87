/**
 * HTTP/1.1 chunked framing of an event frame (`<hex size>\r\n<bytes>\r\n`), made at most once per
 * frame however many sockets it goes to (`Framed`). No I/O; a Buffer, made only when a Node sink asks.
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
