/**
 * The typed error of `ssekit/client`: why a connection failed, with a stable `code`.
 * Carried by `error` events (`event.error`) and thrown by `events()`. Not responsible for retrying.
 */

/** Stable reasons a connection or a poll failed. */
export type SseClientErrorCode =
  /** The server answered with a status other than 200 (the status is in `status`). */
  | "HTTP_STATUS"
  /** The response's Content-Type is not `text/event-stream` (it is in `contentType`). */
  | "CONTENT_TYPE"
  /** fetch rejected or the body stream broke (the cause is in `cause`). */
  | "NETWORK"
  /** The stream ended; the client reconnects. */
  | "STREAM_ENDED"
  /** The runtime's fetch gave no readable response body, and no fallback was configured. */
  | "NO_BODY"
  /** `maxRetries` consecutive reconnects failed; the client gave up. */
  | "MAX_RETRIES"
  /** A poll response was not the JSON that docs/polling.md specifies. */
  | "POLL_RESPONSE";

/** Details of an `SseClientError`. */
export interface SseClientErrorDetails {
  readonly status?: number;
  readonly contentType?: string;
  readonly cause?: unknown;
}

/** Why a connection failed. `code` is stable; `message` says what was wrong and what to do. */
export class SseClientError extends Error {
  readonly code: SseClientErrorCode;
  /** The HTTP status, for `HTTP_STATUS` (and `CONTENT_TYPE`, where it is 200). */
  readonly status: number | undefined;
  /** The Content-Type received, for `CONTENT_TYPE`. */
  readonly contentType: string | undefined;

  constructor(code: SseClientErrorCode, message: string, details: SseClientErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "SseClientError";
    this.code = code;
    this.status = details.status;
    this.contentType = details.contentType;
  }
}

/** The error event an `EventSource` fires: a plain `Event` named "error" with the reason attached. */
export class SseErrorEvent extends Event {
  /** Why it failed, or undefined when `close()`-free reconnects need no reason. */
  readonly error: SseClientError | undefined;
  /** The HTTP status when the server answered with one (as the `eventsource` package reports it). */
  readonly code: number | undefined;
  /** A one-line reason (as the `eventsource` package reports it). */
  readonly message: string | undefined;

  constructor(error: SseClientError | undefined) {
    super("error");
    this.error = error;
    this.code = error?.status;
    this.message = error?.message;
  }

  /** Alias of `error`, for code that reads `event.reason`. */
  get reason(): SseClientError | undefined {
    return this.error;
  }
}
