/**
 * `SseEncodeError`, the encoder's typed error: a `TypeError` with a stable `code`, naming the field
 * that cannot be encoded. The parser throws nothing: the spec has it ignore what it cannot use.
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
