/**
 * The typed error of the server layer: misuse of sessions and channels, with a stable `code`.
 */

export type SseServerErrorCode =
  | "INVALID_OPTION"
  | "HEADERS_SENT"
  | "INVALID_DATA"
  | "CHANNEL_CLOSED"
  /** A client's request cannot be answered as sent (a poll's `timeout`): a `400` with the message. */
  | "INVALID_REQUEST";

export class SseServerError extends Error {
  override readonly name = "SseServerError";
  constructor(
    readonly code: SseServerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Validates a non-negative integer option, naming it in the error. */
export function checkNonNegativeInteger(name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SseServerError(
      "INVALID_OPTION",
      `${name} must be a non-negative integer (got ${String(value)}); use 0 to turn it off where allowed`,
    );
  }
}

/** Validates an option that holds an event id (no CR, LF or NUL, as in an `id:` field), naming it. */
export function checkedEventId(name: string, value: string): string {
  if (typeof value !== "string" || /[\r\n\0]/.test(value)) {
    throw new SseServerError(
      "INVALID_OPTION",
      `${name} must be an event id: a string without CR, LF or NUL (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}
