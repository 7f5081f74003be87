/**
 * The typed errors of the Redis log, each with a stable `code`. Not responsible for retrying:
 * the code tells the caller whether an append may be in the log.
 */

export type RedisLogErrorCode =
  /** Redis could not be reached; the command was not sent, nothing changed. */
  | "UNAVAILABLE"
  /**
   * The connection broke or timed out after the command was sent; the append may or may not be in
   * the log (appending again with the same indexed id is safe: a duplicate is refused).
   */
  | "UNCERTAIN"
  /** Redis answered with an error (wrong key type, out of memory, ...). */
  | "REJECTED"
  /** The indexed event id is already used by an entry still in the log. */
  | "DUPLICATE_ID"
  /** The log was closed. */
  | "CLOSED"
  /** Bad configuration, named in the message. */
  | "INVALID_OPTION"
  /** A bad entry (no field, a value that is not a string or Buffer) or bus event id, named in the message. */
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
