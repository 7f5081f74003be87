/**
 * The shapes shared by sessions and channels: the event map that types `send`, the outgoing
 * message, and the options of a session. Pure types, no runtime code.
 */

/**
 * Maps event names to the type of their data. `createSession<{ price: { p: number } }>(req, res)`
 * makes `session.send("price", { p: 1 })` type-checked. Share the same map with the client.
 */
export type EventMap = Record<string, unknown>;

/** A message for `send` or `broadcast`: `data` that is not a string is JSON-serialized. */
export interface OutgoingMessage {
  readonly data: unknown;
  /** The event type; omitted means `"message"` on the client. */
  readonly event?: string;
  /** The event id, echoed by the client as `Last-Event-ID` when it reconnects. */
  readonly id?: string;
  /** Reconnection delay in milliseconds for the client. */
  readonly retry?: number;
}

/** Extra fields for the typed form `send(event, data, options)`. */
export interface SendOptions {
  readonly id?: string;
  readonly retry?: number;
}

/** What a session does when its client does not read fast enough and the send buffer is full. */
export type BackpressurePolicy = "disconnect" | "drop-oldest";

/** Why a session ended. */
export type CloseReason = "client" | "server" | "backpressure";

export interface SessionOptions {
  /**
   * Heartbeat comment interval in milliseconds, so that proxies keep an idle connection open.
   * `0` turns heartbeats off. Default: 15000.
   */
  readonly heartbeat?: number;
  /** `retry` (reconnection delay in ms) sent to the client on connect. Default: none sent. */
  readonly retry?: number;
  /**
   * Most bytes a session may have written but not yet accepted by its client (its send buffer).
   * Default: 262144 (256 KiB).
   */
  readonly maxBufferedBytes?: number;
  /**
   * What happens when a write would pass `maxBufferedBytes`: `"disconnect"` ends the session (the
   * client reconnects and resumes with `Last-Event-ID`), `"drop-oldest"` keeps the newest events
   * that fit and tells the client with a comment `: ssekit dropped N events`. Default: `"disconnect"`.
   */
  readonly onBackpressure?: BackpressurePolicy;
  /** Extra response headers (CORS and the like). Default: none. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Where this stream starts: the id of the newest event a client that sent no `Last-Event-ID`
   * will not get (for a channel, `channel.startsAfter`). Sent as the `Last-Event-ID` response
   * header, as the Mercure hub does: headers pass a buffering proxy at once, so a client that sees
   * no event and switches to polling polls from there and loses none (docs/polling.md).
   * Cross-origin clients need `Access-Control-Expose-Headers: Last-Event-ID` to read it.
   * Default: no header.
   */
  readonly startsAfter?: string;
  /**
   * HTTP/1.1 over node:http: once the stream is open, let go of the request and response objects,
   * node:http's state for the connection and its parser, and write to the socket alone: an idle
   * session then keeps about half the memory (docs: README, "Memory per connection"). From then
   * on `req` and `res` emit nothing: listen with `session.onClose`. Sessions whose `req` or `res`
   * has listeners of the app's own one event-loop turn after `createSession` (an app's
   * `req.on("close")`), HTTP/2, and Node versions whose internals differ are left as they are.
   * Default: `false`.
   */
  readonly detach?: boolean;
}
