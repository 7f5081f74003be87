/**
 * UTF-8 decoding for the parser. The parser only passes whole characters (it cuts at line breaks,
 * which never occur inside a multi-byte sequence), so no decoder state is carried between calls.
 * Invalid sequences become U+FFFD by the WHATWG "maximal subpart" rule, as TextDecoder does.
 *
 * Where the runtime has Node's `Buffer` (Node, Bun, Deno), it is used: its UTF-8 decoding is several
 * times faster than TextDecoder's. It is looked up on `globalThis`, never imported, so this module
 * stays free of `node:` imports and runs unchanged in browsers and workers.
 */

interface BufferView {
  toString(encoding: "utf8", start: number, end: number): string;
}
interface BufferStatic {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): BufferView;
}
const NodeBuffer = (globalThis as { Buffer?: BufferStatic }).Buffer;

/** Decodes `bytes[start..end)` of the array it was made for. */
export type BoundDecoder = (start: number, end: number) => string;

/** Makes a decoder for one byte array (reused for every slice of it). */
export function bindDecoder(bytes: Uint8Array): BoundDecoder {
  if (NodeBuffer !== undefined) {
    const view = NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return (start, end) => view.toString("utf8", start, end);
  }
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  return (start, end) => decoder.decode(bytes.subarray(start, end));
}
