/**
 * UTF-8 decoding for the line splitter. It passes whole characters (it cuts at line breaks), so no
 * state is carried between calls; invalid sequences become U+FFFD, as TextDecoder makes them.
 */
/**
 * Why two decoders: in V8/Node the non-streaming `decode()` has a SIMD fast path that is several
 * times faster on ASCII, while the streaming one is faster on non-ASCII text. Streams tend to keep
 * to one kind, so each call uses the decoder that suited the previous one. Both give the same text.
 */
export class Utf8Decoder {
  readonly #oneShot = new TextDecoder("utf-8", { ignoreBOM: true });
  readonly #streaming = new TextDecoder("utf-8", { ignoreBOM: true });
  #ascii = true;

  /** Decodes complete UTF-8 (it must not end inside a character). */
  decode(bytes: Uint8Array): string {
    const text = this.#ascii ? this.#oneShot.decode(bytes) : this.#streaming.decode(bytes, { stream: true });
    this.#ascii = text.length === bytes.length;
    return text;
  }

  /** Decodes bytes that may end inside a character (which becomes U+FFFD); keeps no state either. */
  decodeFinal(bytes: Uint8Array): string {
    return this.#oneShot.decode(bytes);
  }
}
