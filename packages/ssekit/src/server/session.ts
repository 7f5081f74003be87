/**
 * A server-sent events session: one client's stream. It encodes and writes messages, comments and
 * heartbeats, bounds its send buffer (disconnect or drop-oldest), and reports when it closes.
 * It is transport-agnostic: it writes to a `SessionSink`, which node-session.ts (Node req/res) and
 * web.ts (a Web `Response` body) provide. It does not parse requests or set headers.
 */
import { encodeBytes } from "../protocol/index.js";
import type { Framed } from "./chunked.js";
import { checkNonNegativeInteger, SseServerError } from "./errors.js";
import { startHeartbeat, stopHeartbeat } from "./heartbeat.js";
import { openSessions } from "./open-sessions.js";
import type {
  BackpressurePolicy,
  CloseReason,
  EventMap,
  OutgoingMessage,
  SendOptions,
  SessionOptions,
} from "./types.js";

/** Where a session's bytes go. */
export interface SessionSink {
  /** Hands bytes to the transport; `framed`, when given, is the same frame shared with other sessions. */
  write(bytes: Uint8Array, framed?: Framed): void;
  /** Bytes handed over but not yet accepted by the client side (the send buffer). */
  buffered(): number;
  /** Calls `onDrain` once when the buffer has emptied (used by drop-oldest). */
  waitDrain(onDrain: () => void): void;
  /** Ends the stream after the bytes already written. */
  end(): void;
  /** Aborts the stream at once. */
  destroy(): void;
  /** Whether the connection came through `server` (for `shutdown(server)`); absent: never. */
  servedBy?(server: object): boolean;
}

/**
 * Something a session belongs to and must leave when it closes (a channel). Checked where a channel
 * joins, not by `implements`: that would put the internal `detach` in the published types.
 */
export interface Membership {
  detach(session: Session): void;
}

const CLOSED_SINK: SessionSink = {
  write() {},
  buffered: () => 0,
  waitDrain() {},
  end() {},
  destroy() {},
};

export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_MAX_BUFFERED_BYTES = 262_144;

const HEARTBEAT = Uint8Array.of(0x3a, 0x0a, 0x0a); // ":\n\n"

function serialize(data: unknown): string {
  return typeof data === "string" ? data : json(data);
}

function json(data: unknown): string {
  const text = JSON.stringify(data);
  if (text === undefined) {
    throw new SseServerError(
      "INVALID_DATA",
      `data must be a string or JSON-serializable (got ${typeof data}); serialize it yourself`,
    );
  }
  return text;
}

/** Turns a `send`/`broadcast` argument list into the protocol message to encode. */
export function toEventMessage(
  first: OutgoingMessage | string,
  data: unknown,
  options: SendOptions | undefined,
): { data: string; event?: string; id?: string; retry?: number } {
  // The typed form always JSON-serializes, so the client can always JSON.parse typed events.
  if (typeof first === "string") {
    return { event: first, data: json(data), id: options?.id, retry: options?.retry };
  }
  return { event: first.event, data: serialize(first.data), id: first.id, retry: first.retry };
}

/** What a session's options resolve to; sessions with the same options share one object. */
interface Settings {
  readonly heartbeatMs: number;
  readonly maxBuffered: number;
  readonly policy: BackpressurePolicy;
}

// A handful of distinct option sets in a typical app, shared by thousands of sessions: a field
// each instead of three, and no object per session. Bounded so odd callers cannot grow it.
const settingsCache = new Map<string, Settings>();
const SETTINGS_CACHE_LIMIT = 64;

function settingsOf(options: SessionOptions): Settings {
  checkNonNegativeInteger("heartbeat", options.heartbeat);
  checkNonNegativeInteger("retry", options.retry);
  checkNonNegativeInteger("maxBufferedBytes", options.maxBufferedBytes);
  const policy = options.onBackpressure ?? "disconnect";
  if (policy !== "disconnect" && policy !== "drop-oldest") {
    throw new SseServerError(
      "INVALID_OPTION",
      `onBackpressure must be "disconnect" or "drop-oldest" (got ${JSON.stringify(policy)})`,
    );
  }
  const heartbeatMs = options.heartbeat ?? DEFAULT_HEARTBEAT_MS;
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const key = `${heartbeatMs} ${maxBuffered} ${policy}`;
  let settings = settingsCache.get(key);
  if (settings === undefined) {
    settings = { heartbeatMs, maxBuffered, policy };
    if (settingsCache.size < SETTINGS_CACHE_LIMIT) settingsCache.set(key, settings);
  }
  return settings;
}

/**
 * Told once when a session closes, with why and which session: a function, or (as DOM event
 * listeners may be) an object with a `handleClose` method. One can serve many sessions.
 */
export type CloseListener =
  | ((reason: CloseReason, session: Session) => void)
  | { handleClose(reason: CloseReason, session: Session): void };

function tell(listener: CloseListener, reason: CloseReason, session: Session): void {
  if (typeof listener === "function") listener(reason, session);
  else listener.handleClose(reason, session);
}

/** Who waits for the close: made on `closed` or a second `onClose`, which most sessions never see. */
class CloseWatch {
  closed: Promise<CloseReason> | undefined = undefined;
  resolve: ((reason: CloseReason) => void) | undefined = undefined;
  listeners: Set<CloseListener> | undefined;
  constructor(listener: CloseListener | undefined) {
    this.listeners = listener === undefined ? undefined : new Set([listener]);
  }
}

/** drop-oldest only, while the client is behind: the messages waiting for its buffer to drain. */
interface Backlog {
  readonly queue: Uint8Array[];
  bytes: number;
  dropped: number;
}

export class Session<M extends EventMap = EventMap> {
  /** The id the client last saw: the `Last-Event-ID` header, or the `lastEventId` query parameter. */
  readonly lastEventId: string | undefined;
  // Few fields and nothing made per session up front: an idle session is this object and its sink.
  #sink: SessionSink;
  readonly #settings: Settings;
  /** Undefined while open. */
  #reason: CloseReason | undefined;
  // Most sessions belong to one channel: the channel itself, a set only for more.
  #membership: Membership | Set<Membership> | undefined;
  // A lone `onClose` listener is kept as it is: a listener shared by many sessions costs none of them anything.
  #watch: CloseWatch | CloseListener | undefined;
  #backlog: Backlog | undefined;

  /** @internal Sessions are made by `createSession`, `createStreamSession` or `createWebSession`. */
  static open<M extends EventMap>(
    sink: SessionSink,
    lastEventId: string | undefined,
    options: SessionOptions,
  ): Session<M> {
    return new Session<M>(sink, lastEventId, options);
  }

  // Private, so that the published types do not offer `new Session()`.
  private constructor(sink: SessionSink, lastEventId: string | undefined, options: SessionOptions) {
    this.#settings = settingsOf(options);
    this.#sink = sink;
    this.lastEventId = lastEventId;
    this.#reason = undefined;
    this.#membership = undefined;
    this.#watch = undefined;
    this.#backlog = undefined;
    openSessions.add(this);
    if (this.#settings.heartbeatMs > 0) startHeartbeat(this.#settings.heartbeatMs);
  }

  /** Settles when the session has closed, for any reason, with that reason. */
  get closed(): Promise<CloseReason> {
    const watch = this.#watchOf();
    if (watch.closed === undefined) {
      const reason = this.#reason;
      watch.closed =
        reason !== undefined
          ? Promise.resolve(reason)
          : new Promise<CloseReason>((resolve) => {
              watch.resolve = resolve;
            });
    }
    return watch.closed;
  }

  /** True until the session closes. */
  get isOpen(): boolean {
    return this.#reason === undefined;
  }

  /**
   * Sends one event. Either `send(message)` with `{ data, event?, id?, retry? }`, or the typed form
   * `send(event, data, options?)` whose data type comes from the session's event map. Data that is
   * not a string is JSON-serialized; the typed form always JSON-serializes. Returns false when the session is closed (nothing was sent).
   */
  send(message: OutgoingMessage): boolean;
  send<K extends keyof M & string>(event: K, data: M[K], options?: SendOptions): boolean;
  send(first: OutgoingMessage | string, data?: unknown, options?: SendOptions): boolean {
    if (this.#reason !== undefined) return false;
    return this.writeBytes(encodeBytes(toEventMessage(first, data, options)));
  }

  /** Writes a comment line (`: text`), which clients ignore. */
  comment(text = ""): boolean {
    if (this.#reason !== undefined) return false;
    return this.writeBytes(encodeBytes({ comment: text }));
  }

  /**
   * Writes a frame made once for many sessions (`new Framed(encodeBytes(message))`): every
   * session writes the same bytes, and over HTTP/1.1 the same chunk, framed on first use. Applies
   * the backpressure policy. Returns false when the session is or becomes closed.
   */
  writeFrame(frame: Framed): boolean {
    return this.writeBytes(frame.bytes, frame);
  }

  /**
   * Writes already-encoded bytes (a whole frame), with `framed` their shared chunked form when
   * the same frame goes to many sessions. Applies the backpressure policy. Returns false when the
   * session is or becomes closed.
   */
  writeBytes(bytes: Uint8Array, framed?: Framed): boolean {
    if (this.#reason !== undefined) return false;
    if (this.#backlog !== undefined) return this.#enqueue(this.#backlog, bytes);
    const settings = this.#settings;
    const buffered = this.#sink.buffered();
    // An event larger than the bound still goes to a client that has taken everything else.
    if (buffered > 0 && buffered + bytes.byteLength > settings.maxBuffered) {
      if (settings.policy === "disconnect") {
        this.#finish("backpressure", true);
        return false;
      }
      const backlog: Backlog = { queue: [], bytes: 0, dropped: 0 };
      this.#backlog = backlog;
      // The one closure a session may make, and only while its client is behind.
      this.#sink.waitDrain(() => this.#drained(backlog));
      return this.#enqueue(backlog, bytes);
    }
    this.#sink.write(bytes, framed);
    return true;
  }

  /**
   * Sends the heartbeat comment now; the shared heartbeat timer of interval `intervalMs` calls
   * this, and a session whose interval is another one ignores it.
   */
  heartbeat(intervalMs: number = this.#settings.heartbeatMs): void {
    if (intervalMs !== this.#settings.heartbeatMs) return;
    // A client with bytes still in flight needs no keep-alive, and must not grow its buffer.
    if (this.#reason === undefined && this.#backlog === undefined && this.#sink.buffered() === 0) {
      this.#sink.write(HEARTBEAT);
    }
  }

  /**
   * Ends the session after the bytes already written. With `retry`, first tells the client how
   * long to wait before reconnecting (for example during a deploy). Closing twice does nothing.
   */
  close(options: { readonly retry?: number } = {}): void {
    if (this.#reason !== undefined) return;
    if (options.retry !== undefined) {
      checkNonNegativeInteger("retry", options.retry);
      this.#sink.write(encodeBytes({ retry: options.retry }));
    }
    this.#finish("server", false);
  }

  /**
   * Ends the session at once, dropping what its client has not taken yet, with the reason
   * `"backpressure"`: for a client the caller judges too slow by a bound of its own.
   */
  abort(): void {
    this.#finish("backpressure", true);
  }

  /**
   * Tells `listener` once when the session closes (later, if it already has): `listener(reason,
   * session)`, or `listener.handleClose(reason, session)`. Returns a function that removes it.
   */
  onClose(listener: CloseListener): () => void {
    if (this.#reason !== undefined) {
      void this.closed.then((reason) => tell(listener, reason, this as Session));
      return () => {};
    }
    if (this.#watch === undefined) {
      this.#watch = listener;
      return () => {
        if (this.#watch === listener) this.#watch = undefined;
        else if (this.#watch instanceof CloseWatch) this.#watch.listeners?.delete(listener);
      };
    }
    const watch = this.#watchOf();
    const listeners = watch.listeners ?? new Set();
    watch.listeners = listeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** @internal Bytes written and not yet taken by the client (the send buffer). */
  get bufferedBytes(): number {
    return this.#sink.buffered();
  }

  /** @internal Resolves once the client has taken what was written, or the session has closed. */
  drained(): Promise<void> {
    if (this.#reason !== undefined || this.#sink.buffered() === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const stop = this.onClose(() => resolve());
      this.#sink.waitDrain(() => {
        stop();
        resolve();
      });
    });
  }

  /** @internal Whether the connection came through `server` (for `shutdown(server)`). */
  servedBy(server: object): boolean {
    return this.#sink.servedBy?.(server) ?? false;
  }

  /** @internal The transport reports that the client went away. */
  clientClosed(): void {
    this.#finish("client", false);
  }

  /** @internal Channels register so the session leaves them when it closes. */
  join(membership: Membership): void {
    const current = this.#membership;
    if (current === undefined) this.#membership = membership;
    else if (current instanceof Set) current.add(membership);
    else if (current !== membership) this.#membership = new Set([current, membership]);
  }

  /** @internal */
  leave(membership: Membership): void {
    const current = this.#membership;
    if (current === membership) this.#membership = undefined;
    else if (current instanceof Set) current.delete(membership);
  }

  #watchOf(): CloseWatch {
    const current = this.#watch;
    if (current instanceof CloseWatch) return current;
    const watch = new CloseWatch(current);
    this.#watch = watch;
    return watch;
  }

  #enqueue(backlog: Backlog, bytes: Uint8Array): boolean {
    const queue = backlog.queue;
    queue.push(bytes);
    backlog.bytes += bytes.byteLength;
    while (backlog.bytes > this.#settings.maxBuffered && queue.length > 1) {
      const oldest = queue.shift();
      if (oldest) backlog.bytes -= oldest.byteLength;
      backlog.dropped++;
    }
    return true;
  }

  #drained(backlog: Backlog): void {
    if (this.#reason !== undefined || this.#backlog !== backlog) return;
    this.#backlog = undefined;
    if (backlog.dropped > 0) {
      this.#sink.write(encodeBytes({ comment: `ssekit dropped ${backlog.dropped} events` }));
    }
    // Writing through writeBytes re-applies the bound, so a still-slow client queues again.
    for (const bytes of backlog.queue) this.writeBytes(bytes);
  }

  #finish(reason: CloseReason, abort: boolean): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#backlog = undefined;
    openSessions.delete(this);
    const heartbeatMs = this.#settings.heartbeatMs;
    if (heartbeatMs > 0) stopHeartbeat(heartbeatMs);
    const membership = this.#membership;
    this.#membership = undefined;
    if (membership instanceof Set) for (const m of membership) m.detach(this);
    else membership?.detach(this);
    const sink = this.#sink;
    // A closed session that user code still holds must not hold the connection and its buffers.
    this.#sink = CLOSED_SINK;
    if (abort) sink.destroy();
    else sink.end();
    const watch = this.#watch;
    if (watch === undefined) return;
    if (!(watch instanceof CloseWatch)) {
      this.#watch = undefined;
      tell(watch, reason, this as Session);
      return;
    }
    watch.resolve?.(reason);
    watch.resolve = undefined;
    const listeners = watch.listeners;
    watch.listeners = undefined;
    if (listeners) for (const listener of listeners) tell(listener, reason, this as Session);
  }
}
