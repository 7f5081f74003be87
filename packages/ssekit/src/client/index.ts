/**
 * `ssekit/client`: a drop-in `EventSource` over `fetch` for every runtime (reconnection with
 * backoff, polling fallback, one shared connection for many browser tabs) and `events()`, an async
 * iterator over one streamed response. No `node:` imports: it is bundled for browsers as is.
 */

export type { ParsedEvent } from "../protocol/index.js";
export { SseClientError, type SseClientErrorCode, SseErrorEvent } from "./errors.js";
export { connect, EventSource, type EventSourceInit } from "./event-source.js";
export { type EventsInit, events } from "./events.js";
export type { FetchLike } from "./request.js";
export type { SharedOption, SharedWorkerInit } from "./shared.js";
