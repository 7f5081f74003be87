/**
 * The shapes shared by the encoder and the parser. Pure types, no runtime code.
 */

/** One message to write to a `text/event-stream`. Every field is optional; an empty object encodes to nothing. */
export interface EventMessage {
  /** The payload. Any string: CR, LF and CRLF inside it each start a new `data:` line. */
  readonly data?: string;
  /** The event type (`event:` field). Must not contain CR or LF. */
  readonly event?: string;
  /** The event id (`id:` field), echoed by clients as `Last-Event-ID`. Must not contain CR, LF or NUL. */
  readonly id?: string;
  /** Reconnection delay in milliseconds (`retry:` field). A non-negative integer. */
  readonly retry?: number;
  /** A comment (`:` line), ignored by clients; used for heartbeats. CR, LF and CRLF start new comment lines. */
  readonly comment?: string;
}

/** An event as a browser's `MessageEvent` would show it. */
export interface ParsedEvent {
  /** The event type: the `event:` field, or `"message"` when none was given. */
  readonly type: string;
  /** The data lines joined with LF. */
  readonly data: string;
  /** The last event id seen on the stream so far (it persists across events). */
  readonly lastEventId: string;
}
