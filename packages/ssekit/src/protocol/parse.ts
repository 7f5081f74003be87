/**
 * The streaming `text/event-stream` parser (WHATWG HTML, "Server-sent events", section 9.2.6
 * "Interpreting an event stream"). Bytes or strings in, events out, in any chunking.
 *
 * Responsible for: UTF-8 decoding across chunk boundaries, stripping one leading BOM, CR/LF/CRLF
 * line endings (also a CR at the end of one chunk with the LF at the start of the next), fields,
 * comments, `retry`, and dispatching at blank lines with the last event id carried over.
 * Not responsible for: reconnection, `Last-Event-ID` headers or I/O; those live in the client.
 *
 * This is a hot path. Bytes are decoded a whole line (or a whole chunk of lines) at a time, the
 * common LF-only stream takes a tight loop, and values are slices of the decoded chunk.
 */
import type { ParsedEvent } from "./types.js";
import { Utf8Decoder } from "./utf8.js";

/** What the parser reports. Only `onEvent` is required. */
export interface ParserCallbacks {
  /** Called for each dispatched event, as a browser's `MessageEvent` would show it. */
  readonly onEvent: (event: ParsedEvent) => void;
  /** Called with the reconnection time when a `retry` field holds only ASCII digits. */
  readonly onRetry?: (ms: number) => void;
  /** Called with the text of each comment line (`:` removed, and one space after it). */
  readonly onComment?: (text: string) => void;
  /**
   * Called at a blank line that dispatches no event (no `data`) when it changes the last event
   * id: the spec's dispatch sets the event source's last event id before it checks for data
   * (9.2.6, "dispatch the event", step 1), so `id: 7` alone sets what a reconnection sends.
   * Events carry their id themselves; an id in a block the stream never finishes is not reported.
   */
  readonly onLastEventId?: (id: string) => void;
}

/** A parser instance: feed it chunks in order. */
export interface EventParser {
  /** Parses a chunk: a string, or UTF-8 bytes (a character may be split across chunks). */
  feed(chunk: string | Uint8Array): void;
  /**
   * Ends the stream: an event without its closing blank line, and an unfinished line, are
   * discarded, as the spec says for the end of a stream. The last event id is kept.
   */
  end(): void;
  /** Returns to the initial state: no pending data, last event id "", a BOM stripped again. */
  reset(): void;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
/** Chunks up to this size are copied byte by byte; larger ones are decoded in one call. */
const SMALL_CHUNK = 64;

function firstCR(text: string, from: number, to: number): number {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === CR) return i;
  return -1;
}

/** Creates a streaming parser. See `ParserCallbacks` for what it reports. */
export function createParser(callbacks: ParserCallbacks): EventParser {
  const { onEvent, onRetry, onComment, onLastEventId } = callbacks;
  /** Whether any text has been seen (a BOM is stripped only at the very start). */
  let started = false;
  /** An unfinished line of string input. */
  let carry = "";
  /** The previous text ended with CR: an LF at the start of the next one belongs to that CR. */
  let skipLF = false;
  let data = "";
  let dataLines = 0;
  let type = "";
  let lastEventId = "";
  /** The last event id as of the previous blank line (what the event source holds). */
  let dispatchedId = "";

  /** A blank line that ends a block without data: no event, but the last event id is set. */
  function noEvent(): void {
    type = "";
    if (lastEventId !== dispatchedId) {
      dispatchedId = lastEventId;
      onLastEventId?.(lastEventId);
    }
  }

  function dispatch(): void {
    if (dataLines > 0) {
      const event: ParsedEvent = { type: type === "" ? "message" : type, data, lastEventId };
      data = "";
      dataLines = 0;
      type = "";
      dispatchedId = lastEventId;
      onEvent(event);
    } else noEvent();
  }

  /** Any line that is not `data:`, `event:` or `id:` spelled the common way, and comments. */
  function other(text: string, start: number, end: number): void {
    const first = text.charCodeAt(start);
    if (first === COLON) {
      if (onComment)
        onComment(
          text.slice(text.charCodeAt(start + 1) === SPACE && start + 1 < end ? start + 2 : start + 1, end),
        );
      return;
    }
    let colon = text.indexOf(":", start);
    if (colon >= end) colon = -1;
    const name = colon === -1 ? text.slice(start, end) : text.slice(start, colon);
    let value = "";
    if (colon !== -1) {
      let v = colon + 1;
      if (v < end && text.charCodeAt(v) === SPACE) v++;
      value = text.slice(v, end);
    }
    switch (name) {
      case "data":
        data = dataLines++ === 0 ? value : `${data}\n${value}`;
        return;
      case "event":
        type = value;
        return;
      case "id":
        if (value.indexOf("\0") === -1) lastEventId = value;
        return;
      // https://html.spec.whatwg.org/multipage/server-sent-events.html#processField: only ASCII digits
      case "retry":
        if (onRetry && /^[0-9]+$/.test(value)) onRetry(Number.parseInt(value, 10));
        return;
    }
  }

  /** Processes one line, `text[start..end)`, without its line break. */
  function line(text: string, start: number, end: number): void {
    if (start === end) {
      dispatch();
      return;
    }
    if (
      text.charCodeAt(start) === 100 &&
      text.charCodeAt(start + 1) === 97 &&
      text.charCodeAt(start + 2) === 116 &&
      text.charCodeAt(start + 3) === 97 &&
      text.charCodeAt(start + 4) === COLON
    ) {
      const value = text.slice(
        start + 5 < end && text.charCodeAt(start + 5) === SPACE ? start + 6 : start + 5,
        end,
      );
      data = dataLines++ === 0 ? value : `${data}\n${value}`;
      return;
    }
    if (
      text.charCodeAt(start) === 101 &&
      text.charCodeAt(start + 1) === 118 &&
      text.charCodeAt(start + 2) === 101 &&
      text.charCodeAt(start + 3) === 110 &&
      text.charCodeAt(start + 4) === 116 &&
      text.charCodeAt(start + 5) === COLON
    ) {
      type = text.slice(start + 6 < end && text.charCodeAt(start + 6) === SPACE ? start + 7 : start + 6, end);
      return;
    }
    if (
      text.charCodeAt(start) === 105 &&
      text.charCodeAt(start + 1) === 100 &&
      text.charCodeAt(start + 2) === COLON
    ) {
      const value = text.slice(
        start + 3 < end && text.charCodeAt(start + 3) === SPACE ? start + 4 : start + 3,
        end,
      );
      if (value.indexOf("\0") === -1) lastEventId = value;
      return;
    }
    other(text, start, end);
  }

  /** Parses whole lines of `text`; returns the index where an unfinished line starts. */
  function lines(text: string, pos: number): number {
    if (text.indexOf("\r", pos) === -1) {
      // Fast path: LF line endings only (what nearly every server sends).
      let lf = text.indexOf("\n", pos);
      while (lf !== -1) {
        const c = text.charCodeAt(pos);
        if (lf === pos) {
          if (dataLines > 0) {
            const event: ParsedEvent = { type: type === "" ? "message" : type, data, lastEventId };
            data = "";
            dataLines = 0;
            type = "";
            dispatchedId = lastEventId;
            onEvent(event);
          } else noEvent();
        } else if (
          c === 100 &&
          text.charCodeAt(pos + 1) === 97 &&
          text.charCodeAt(pos + 2) === 116 &&
          text.charCodeAt(pos + 3) === 97 &&
          text.charCodeAt(pos + 4) === COLON
        ) {
          const value = text.slice(
            pos + 5 < lf && text.charCodeAt(pos + 5) === SPACE ? pos + 6 : pos + 5,
            lf,
          );
          if (dataLines === 0) {
            if (text.charCodeAt(lf + 1) === LF) {
              // A single data line followed by the blank line: dispatch without touching the buffer.
              const event: ParsedEvent = { type: type === "" ? "message" : type, data: value, lastEventId };
              type = "";
              dispatchedId = lastEventId;
              onEvent(event);
              pos = lf + 2;
              lf = text.indexOf("\n", pos);
              continue;
            }
            dataLines = 1;
            data = value;
          } else {
            dataLines++;
            data = `${data}\n${value}`;
          }
        } else if (
          c === 101 &&
          text.charCodeAt(pos + 1) === 118 &&
          text.charCodeAt(pos + 2) === 101 &&
          text.charCodeAt(pos + 3) === 110 &&
          text.charCodeAt(pos + 4) === 116 &&
          text.charCodeAt(pos + 5) === COLON
        ) {
          type = text.slice(pos + 6 < lf && text.charCodeAt(pos + 6) === SPACE ? pos + 7 : pos + 6, lf);
        } else if (c === 105 && text.charCodeAt(pos + 1) === 100 && text.charCodeAt(pos + 2) === COLON) {
          const value = text.slice(
            pos + 3 < lf && text.charCodeAt(pos + 3) === SPACE ? pos + 4 : pos + 3,
            lf,
          );
          if (value.indexOf("\0") === -1) lastEventId = value;
        } else other(text, pos, lf);
        pos = lf + 1;
        lf = text.indexOf("\n", pos);
      }
      return pos;
    }
    return linesAnyBreak(text, pos);
  }

  /** The general path: CR, LF and CRLF line endings. */
  function linesAnyBreak(text: string, pos: number): number {
    const len = text.length;
    while (pos < len) {
      const cr = text.indexOf("\r", pos);
      const lf = text.indexOf("\n", pos);
      let end: number;
      if (cr === -1) {
        if (lf === -1) return pos;
        end = lf;
      } else end = lf === -1 || cr < lf ? cr : lf;
      line(text, pos, end);
      if (text.charCodeAt(end) === CR) {
        if (end + 1 === len) {
          skipLF = true;
          return len;
        }
        pos = text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
      } else pos = end + 1;
    }
    return pos;
  }

  function feedText(text: string): void {
    // An empty chunk (a streaming TextDecoder gives one for a lone byte of a split character) must
    // not clear `skipLF`: the LF that may follow a CR is still to come.
    if (text === "") return;
    let pos = 0;
    if (skipLF) {
      skipLF = false;
      if (text.charCodeAt(0) === LF) pos = 1;
    }
    if (carry !== "") {
      // Finish the carried line first, so `lines` works on the chunk itself without copying it.
      // Look for CR only before the first LF: scanning the whole chunk for it would cost a second pass.
      const lf = text.indexOf("\n", pos);
      const cr = lf === -1 ? text.indexOf("\r", pos) : firstCR(text, pos, lf);
      const end = cr === -1 ? lf : cr;
      if (end === -1) {
        carry += pos === 0 ? text : text.slice(pos);
        return;
      }
      const whole = carry + text.slice(pos, end);
      carry = "";
      line(whole, 0, whole.length);
      if (text.charCodeAt(end) === CR) {
        if (end + 1 === text.length) {
          skipLF = true;
          return;
        }
        pos = text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
      } else pos = end + 1;
    }
    const rest = lines(text, pos);
    if (rest < text.length) carry = rest === 0 ? text : text.slice(rest);
  }

  // An unfinished line, kept as bytes so that it is decoded once, whole, when its line break arrives.
  let pending = new Uint8Array(1024);
  let pendingLength = 0;
  const decoder = new Utf8Decoder();

  function reserve(extra: number): void {
    if (pendingLength + extra <= pending.length) return;
    const grown = new Uint8Array(Math.max(pending.length * 2, pendingLength + extra));
    grown.set(pending.subarray(0, pendingLength));
    pending = grown;
  }

  function text(decoded: string): void {
    if (!started) {
      if (decoded === "") return;
      started = true;
      if (decoded.charCodeAt(0) === 0xfeff) decoded = decoded.slice(1);
    }
    feedText(decoded);
  }

  function flushPending(): void {
    const line = decoder.decode(pending.subarray(0, pendingLength));
    pendingLength = 0;
    text(line);
  }

  /** Small chunks (a slow network, a test that splits bytes): copy byte by byte, decode at each line break. */
  function feedSmall(chunk: Uint8Array): void {
    const n = chunk.length;
    reserve(n);
    for (let i = 0; i < n; i++) {
      const b = chunk[i] as number;
      pending[pendingLength++] = b;
      if (b === LF || b === CR) flushPending();
    }
  }

  /** Large chunks: decode everything up to the last line break at once; keep the rest as bytes. */
  function feedLarge(chunk: Uint8Array): void {
    const n = chunk.length;
    // The last line break is usually near the end: a short backward scan finds it.
    let last = n - 1;
    while (last >= 0 && chunk[last] !== LF && chunk[last] !== CR) last--;
    if (last === -1) {
      reserve(n);
      pending.set(chunk, pendingLength);
      pendingLength += n;
      return;
    }
    let start = 0;
    if (pendingLength > 0) {
      // Finish the pending line with the bytes up to the first line break.
      let first = 0;
      while (chunk[first] !== LF && chunk[first] !== CR) first++;
      reserve(first + 1);
      pending.set(chunk.subarray(0, first + 1), pendingLength);
      pendingLength += first + 1;
      flushPending();
      start = first + 1;
    }
    if (start <= last)
      text(decoder.decode(start === 0 && last === n - 1 ? chunk : chunk.subarray(start, last + 1)));
    if (last + 1 < n) {
      reserve(n - last - 1);
      pending.set(chunk.subarray(last + 1), pendingLength);
      pendingLength += n - last - 1;
    }
  }

  return {
    feed(chunk) {
      if (typeof chunk === "string") {
        // Bytes of an unfinished line come first. A string cannot continue a split UTF-8
        // character, so a partial one there becomes U+FFFD.
        if (pendingLength > 0) {
          const head = decoder.decodeFinal(pending.subarray(0, pendingLength));
          pendingLength = 0;
          text(head);
        }
        text(chunk);
      } else if (chunk.length > SMALL_CHUNK) feedLarge(chunk);
      else feedSmall(chunk);
    },
    end() {
      carry = "";
      data = "";
      dataLines = 0;
      type = "";
      skipLF = false;
      pendingLength = 0;
    },
    reset() {
      started = false;
      carry = "";
      skipLF = false;
      data = "";
      dataLines = 0;
      type = "";
      lastEventId = "";
      dispatchedId = "";
      pendingLength = 0;
    },
  };
}
