/**
 * `ssekit/protocol`: the byte-exact `text/event-stream` encoder and streaming parser.
 * Pure Web-standard code: no I/O and no `node:` imports, so it runs in any JavaScript runtime.
 */
export { encode, encodeBytes, encodeComment, validateMessage } from "./encode.js";
export { SseEncodeError, type SseEncodeErrorCode } from "./errors.js";
export { decodeHeaderId, encodeHeaderId } from "./header-id.js";
export { createParser, type EventParser, type ParserCallbacks } from "./parse.js";
export { EventStreamParser, type EventStreamParserOptions } from "./stream.js";
export type { EventMessage, ParsedEvent } from "./types.js";
