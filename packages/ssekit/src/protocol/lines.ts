/**
 * The parser's first half: bytes or strings in, lines out. Decodes UTF-8 across chunk boundaries,
 * strips one leading BOM, and ends lines at CR, LF or CRLF, also when a CRLF is split across chunks.
 * What a line means is the `LineSink`'s business (parse.ts). Hot path: text is decoded a line or a
 * chunk at a time, and lines are handed on as ranges of it, not copies.
 */
import { Utf8Decoder } from "./utf8.js";

/** Receives each line as `text[start..end)`, without its line break. */
export interface LineSink {
  line(text: string, start: number, end: number): void;
}

const LF = 10;
const CR = 13;
const BOM = 0xfeff;
/** Byte chunks up to this size are copied byte by byte; larger ones are decoded in one call. */
const SMALL_CHUNK = 64;

function firstCR(text: string, from: number, to: number): number {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === CR) return i;
  return -1;
}

/** Members are TypeScript-private, not `#private`, for speed on this hot path (see parse.ts). */
export class LineSplitter {
  private readonly sink: LineSink;
  private readonly decoder = new Utf8Decoder();
  /** Whether any text has been seen (a BOM is stripped only at the very start). */
  private started = false;
  /** The previous text ended with CR: an LF at the start of the next one belongs to that CR. */
  private skipLF = false;
  /** An unfinished line of decoded text. */
  private carry = "";
  /** An unfinished line still in bytes, decoded once, whole, when its line break arrives. */
  private pending = new Uint8Array(1024);
  private pendingLength = 0;

  constructor(sink: LineSink) {
    this.sink = sink;
  }

  feed(chunk: string | Uint8Array): void {
    if (typeof chunk === "string") {
      // Bytes of an unfinished line come first. A string cannot continue a split UTF-8
      // character, so a partial one there becomes U+FFFD.
      if (this.pendingLength > 0) {
        const head = this.decoder.decodeFinal(this.pending.subarray(0, this.pendingLength));
        this.pendingLength = 0;
        this.text(head);
      }
      this.text(chunk);
    } else if (chunk.length > SMALL_CHUNK) this.feedLarge(chunk);
    else this.feedSmall(chunk);
  }

  /** Drops an unfinished line (the end of a stream, which the spec discards). */
  end(): void {
    this.carry = "";
    this.skipLF = false;
    this.pendingLength = 0;
  }

  /** As new: also strips a BOM again. */
  reset(): void {
    this.end();
    this.started = false;
  }

  // --- bytes ---

  private reserve(extra: number): void {
    if (this.pendingLength + extra <= this.pending.length) return;
    const grown = new Uint8Array(Math.max(this.pending.length * 2, this.pendingLength + extra));
    grown.set(this.pending.subarray(0, this.pendingLength));
    this.pending = grown;
  }

  private append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.pending.set(bytes, this.pendingLength);
    this.pendingLength += bytes.length;
  }

  private flushPending(): void {
    const line = this.decoder.decode(this.pending.subarray(0, this.pendingLength));
    this.pendingLength = 0;
    this.text(line);
  }

  /** Small chunks (a slow network, a test that splits bytes): copy byte by byte, decode at each line break. */
  private feedSmall(chunk: Uint8Array): void {
    const n = chunk.length;
    this.reserve(n);
    const pending = this.pending;
    for (let i = 0; i < n; i++) {
      const b = chunk[i] as number;
      pending[this.pendingLength++] = b;
      if (b === LF || b === CR) this.flushPending();
    }
  }

  /** Large chunks: decode everything up to the last line break at once; keep the rest as bytes. */
  private feedLarge(chunk: Uint8Array): void {
    const n = chunk.length;
    // The last line break is usually near the end: a short backward scan finds it.
    let last = n - 1;
    while (last >= 0 && chunk[last] !== LF && chunk[last] !== CR) last--;
    if (last === -1) {
      this.append(chunk);
      return;
    }
    let start = 0;
    if (this.pendingLength > 0) {
      // Finish the pending line with the bytes up to the first line break.
      let first = 0;
      while (chunk[first] !== LF && chunk[first] !== CR) first++;
      this.append(chunk.subarray(0, first + 1));
      this.flushPending();
      start = first + 1;
    }
    if (start <= last)
      this.text(this.decoder.decode(start === 0 && last === n - 1 ? chunk : chunk.subarray(start, last + 1)));
    if (last + 1 < n) this.append(chunk.subarray(last + 1));
  }

  // --- text ---

  private text(text: string): void {
    if (!this.started) {
      if (text === "") return;
      this.started = true;
      if (text.charCodeAt(0) === BOM) text = text.slice(1);
    }
    // An empty chunk (a streaming TextDecoder gives one for a lone byte of a split character) must
    // not clear `skipLF`: the LF that may follow a CR is still to come.
    if (text === "") return;
    let pos = 0;
    if (this.skipLF) {
      this.skipLF = false;
      if (text.charCodeAt(0) === LF) pos = 1;
    }
    if (this.carry !== "") {
      pos = this.finishCarry(text, pos);
      if (pos === -1) return;
    }
    const rest = text.indexOf("\r", pos) === -1 ? this.linesLF(text, pos) : this.linesAnyBreak(text, pos);
    if (rest < text.length) this.carry = rest === 0 ? text : text.slice(rest);
  }

  /**
   * Ends the carried line with the first line of `text`, so the rest of `text` is read in place.
   * Returns where the next line starts, or -1 when `text` holds no line break (all of it is carried).
   */
  private finishCarry(text: string, pos: number): number {
    // Look for CR only before the first LF: scanning the whole chunk for it would cost a second pass.
    const lf = text.indexOf("\n", pos);
    const cr = lf === -1 ? text.indexOf("\r", pos) : firstCR(text, pos, lf);
    const end = cr === -1 ? lf : cr;
    if (end === -1) {
      this.carry += pos === 0 ? text : text.slice(pos);
      return -1;
    }
    const whole = this.carry + text.slice(pos, end);
    this.carry = "";
    this.sink.line(whole, 0, whole.length);
    return this.after(text, end);
  }

  /** Where the line after the break at `end` starts; -1 after a CR that ends `text` (its LF may follow). */
  private after(text: string, end: number): number {
    if (text.charCodeAt(end) !== CR) return end + 1;
    if (end + 1 === text.length) {
      this.skipLF = true;
      return -1;
    }
    return text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
  }

  /** Whole lines of `text` that holds no CR (what nearly every server sends); returns where an unfinished line starts. */
  private linesLF(text: string, pos: number): number {
    const sink = this.sink;
    for (let lf = text.indexOf("\n", pos); lf !== -1; lf = text.indexOf("\n", pos)) {
      sink.line(text, pos, lf);
      pos = lf + 1;
    }
    return pos;
  }

  /** Whole lines of `text` with CR, LF and CRLF breaks; returns where an unfinished line starts. */
  private linesAnyBreak(text: string, pos: number): number {
    const len = text.length;
    while (pos < len) {
      const cr = text.indexOf("\r", pos);
      const lf = text.indexOf("\n", pos);
      let end: number;
      if (cr === -1) {
        if (lf === -1) return pos;
        end = lf;
      } else end = lf === -1 || cr < lf ? cr : lf;
      this.sink.line(text, pos, end);
      pos = this.after(text, end);
      if (pos === -1) return len;
    }
    return pos;
  }
}
