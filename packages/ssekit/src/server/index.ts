/**
 * `ssekit/server`: server-sent events sessions for Node (`createSession(req, res)`, and
 * `createStreamSession(stream, headers)` on node:http2's core API) and for
 * Request/Response runtimes (`createWebSession(request)`), channels that broadcast to many
 * sessions with optional replay history (in one process, or across processes through a `ChannelBus`),
 * frames made once for many sessions, paced replay from an async store, the polling protocol's
 * responder over any source of events, and graceful shutdown.
 */

export type { BusEvent, BusFollower, BusMessage, BusReplay, ChannelBus } from "./bus.js";
export { BusChannel, type BusChannelOptions, type BusReplayResult } from "./bus-channel.js";
export {
  type AddOptions,
  Channel,
  type ChannelEvent,
  type ChannelOptions,
  createChannel,
  type SessionFilter,
  TRUNCATED_COMMENT,
  UNKNOWN_ID_COMMENT,
} from "./channel.js";
export { Framed } from "./chunked.js";
export { SseServerError, type SseServerErrorCode } from "./errors.js";
export type { HistoryEntry, ReplayResult } from "./history.js";
export {
  createSession,
  createStreamSession,
  flushWrites,
  type NodeRequest,
  type NodeResponse,
} from "./node-session.js";
export {
  POLL_HEADERS,
  type PollBatch,
  type PolledEvent,
  type PollOptions,
  type PollRequest,
  type PollSource,
  pollBody,
  pollResponse,
} from "./poll.js";
export { type ReplayOptions, replay } from "./replay.js";
export { type LastEventId, type LastEventIdSource, readLastEventId } from "./request.js";
export { type CloseListener, Session } from "./session.js";
export { type ShutdownOptions, shutdown } from "./shutdown.js";
export type {
  BackpressurePolicy,
  CloseReason,
  EventMap,
  OutgoingMessage,
  SendOptions,
  SessionOptions,
} from "./types.js";
export { createWebSession } from "./web.js";
