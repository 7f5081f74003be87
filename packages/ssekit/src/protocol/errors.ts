/**
 * The typed error of the protocol layer. Invalid field values throw `SseEncodeError`, which is a
 * `TypeError` (as the issue and DESIGN.md ask) carrying a stable `code` and naming the field.
 */

export type SseEncodeErrorCode = "INVALID_EVENT" | "INVALID_ID" | "INVALID_RETRY" | "INVALID_DATA";

export class SseEncodeError extends TypeError {
  override readonly name = "SseEncodeError";
  constructor(
    readonly code: SseEncodeErrorCode,
    readonly field: "event" | "id" | "retry" | "data" | "comment",
    message: string,
  ) {
    super(message);
  }
}
