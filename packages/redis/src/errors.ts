/**
 * The typed errors of the Redis log, each with a stable `code`:
 * - `UNAVAILABLE`: Redis could not be reached; the command was not sent, nothing changed.
 * - `UNCERTAIN`: the connection broke or timed out after the command was sent; the append may or
 *   may not be in the log (appending again with the same indexed id is safe: a duplicate is refused).
 * - `REJECTED`: Redis answered with an error (wrong key type, out of memory, ...).
 * - `DUPLICATE_ID`: the indexed event id is already used by an entry still in the log.
 * - `CLOSED`: the log was closed.
 * - `INVALID_OPTION`, `INVALID_ENTRY`: bad configuration or input, named in the message.
 */

export type RedisLogErrorCode =
  | "UNAVAILABLE"
  | "UNCERTAIN"
  | "REJECTED"
  | "DUPLICATE_ID"
  | "CLOSED"
  | "INVALID_OPTION"
  | "INVALID_ENTRY";

export class RedisLogError extends Error {
  override readonly name: string = "RedisLogError";
  constructor(
    readonly code: RedisLogErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An append whose indexed event id is taken; `entryId` is the stream entry that holds it. */
export class DuplicateIdError extends RedisLogError {
  override readonly name = "DuplicateIdError";
  constructor(
    readonly eventId: string,
    readonly entryId: string,
  ) {
    super(
      "DUPLICATE_ID",
      `event id ${JSON.stringify(eventId)} is already used by log entry ${entryId}; choose another id or omit it`,
    );
  }
}
