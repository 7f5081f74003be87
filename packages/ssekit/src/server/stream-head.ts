/**
 * What every event stream starts with, Node or Web: its response headers and its first bytes (the
 * `retry` field when configured, else an empty comment). Writes nothing itself.
 */
import { encodeBytes, encodeHeaderId } from "../protocol/index.js";
import { checkedEventId } from "./errors.js";
import type { SessionOptions } from "./types.js";

/** The opening without `retry`: the same bytes for every session. */
const OPENING = encodeBytes({ comment: "" });

/**
 * The response headers of an event stream: `options.headers`, then `Content-Type`, `Cache-Control`,
 * `X-Accel-Buffering` and, with `startsAfter`, `Last-Event-ID`. `Connection` is the caller's: it
 * belongs on HTTP/1.1 only (connection-specific headers are forbidden in HTTP/2, RFC 9113 8.2.2).
 */
export function streamHeaders(options: SessionOptions): Record<string, string> {
  const headers: Record<string, string> = {
    ...options.headers,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
  };
  if (options.startsAfter !== undefined)
    headers["last-event-id"] = encodeHeaderId(checkedEventId("startsAfter", options.startsAfter));
  return headers;
}

/** The first bytes, written at once: clients report the stream open on them, not on headers. */
export function openingBytes(retry: number | undefined): Uint8Array {
  return retry === undefined ? OPENING : encodeBytes({ retry });
}
