/**
 * A server-sent events session: one client's stream. It encodes and writes messages, comments and
 * heartbeats, bounds its send buffer (disconnect or drop-oldest), and reports when it closes.
 * It is transport-agnostic: it writes to a `SessionSink`, which node-session.ts (Node req/res) and
 * web.ts (a Web `Response` body) provide. It does not parse requests or set headers.
 */
import { encodeBytes } from "../protocol/index.js";
import type { Framed } from "./chunked.js";
import { checkNonNegativeInteger, SseServerError } from "./errors.js";
import { registerHeartbeat, unregisterHeartbeat } from "./heartbeat.js";
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
}

/** Something a session belongs to and must leave when it closes (a channel). */
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

export class Session<M extends EventMap = EventMap> {
  /** The id the client last saw: the `Last-Event-ID` header, or the `lastEventId` query parameter. */
  readonly lastEventId: string | undefined;
  #sink: SessionSink;
  #open = true;
  #heartbeatMs: number;
  #maxBuffered: number;
  #policy: BackpressurePolicy;
  // Made on first use: most sessions are never asked, and a promise with its resolver costs memory.
  #closed: Promise<CloseReason> | undefined;
  #resolveClosed: ((reason: CloseReason) => void) | undefined;
  #reason: CloseReason | undefined;
  // Most sessions belong to one channel: one field, a set only for more.
  #membership: Membership | undefined;
  #memberships: Set<Membership> | undefined;
  #listeners: Set<(reason: CloseReason) => void> | undefined;
  // drop-oldest only: messages waiting for the client to drain its buffer.
  #queue: Uint8Array[] | undefined;
  #queuedBytes = 0;
  #dropped = 0;

  /** @internal Sessions are made by `createSession` or `createWebSession`. */
  constructor(sink: SessionSink, lastEventId: string | undefined, options: SessionOptions) {
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
    this.#sink = sink;
    this.lastEventId = lastEventId;
    this.#heartbeatMs = options.heartbeat ?? DEFAULT_HEARTBEAT_MS;
    this.#maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#policy = policy;
    if (this.#heartbeatMs > 0) registerHeartbeat(this.#heartbeatMs, this);
  }

  /** Settles when the session has closed, for any reason, with that reason. */
  get closed(): Promise<CloseReason> {
    if (this.#closed === undefined) {
      this.#closed =
        this.#reason !== undefined
          ? Promise.resolve(this.#reason)
          : new Promise<CloseReason>((resolve) => {
              this.#resolveClosed = resolve;
            });
    }
    return this.#closed;
  }

  /** True until the session closes. */
  get isOpen(): boolean {
    return this.#open;
  }

  /**
   * Sends one event. Either `send(message)` with `{ data, event?, id?, retry? }`, or the typed form
   * `send(event, data, options?)` whose data type comes from the session's event map. Data that is
   * not a string is JSON-serialized; the typed form always JSON-serializes. Returns false when the session is closed (nothing was sent).
   */
  send(message: OutgoingMessage): boolean;
  send<K extends keyof M & string>(event: K, data: M[K], options?: SendOptions): boolean;
  send(first: OutgoingMessage | string, data?: unknown, options?: SendOptions): boolean {
    if (!this.#open) return false;
    return this.writeBytes(encodeBytes(toEventMessage(first, data, options)));
  }

  /** Writes a comment line (`: text`), which clients ignore. */
  comment(text = ""): boolean {
    if (!this.#open) return false;
    return this.writeBytes(encodeBytes({ comment: text }));
  }

  /**
   * Writes already-encoded bytes (a whole frame). Channels use it to write the same bytes to every
   * member. Applies the backpressure policy. Returns false when the session is or becomes closed.
   */
  writeBytes(bytes: Uint8Array, framed?: Framed): boolean {
    if (!this.#open) return false;
    if (this.#queue !== undefined) return this.#enqueue(bytes);
    if (this.#sink.buffered() + bytes.byteLength > this.#maxBuffered) {
      if (this.#policy === "disconnect") {
        this.#finish("backpressure", true);
        return false;
      }
      this.#queue = [];
      this.#sink.waitDrain(this.#onDrain);
      return this.#enqueue(bytes);
    }
    this.#sink.write(bytes, framed);
    return true;
  }

  /** Sends the heartbeat comment now (the shared heartbeat timer calls this). */
  heartbeat(): void {
    // A client with bytes still in flight needs no keep-alive, and must not grow its buffer.
    if (this.#open && this.#sink.buffered() === 0 && this.#queue === undefined) this.#sink.write(HEARTBEAT);
  }

  /**
   * Ends the session after the bytes already written. With `retry`, first tells the client how
   * long to wait before reconnecting (for example during a deploy). Closing twice does nothing.
   */
  close(options: { readonly retry?: number } = {}): void {
    if (!this.#open) return;
    if (options.retry !== undefined) {
      checkNonNegativeInteger("retry", options.retry);
      this.#sink.write(encodeBytes({ retry: options.retry }));
    }
    this.#finish("server", false);
  }

  /** Calls `listener` once when the session closes; returns a function that removes it. */
  onClose(listener: (reason: CloseReason) => void): () => void {
    if (!this.#open) {
      void this.closed.then(listener);
      return () => {};
    }
    this.#listeners ??= new Set();
    this.#listeners.add(listener);
    return () => this.#listeners?.delete(listener);
  }

  /** @internal The transport reports that the client went away. */
  clientClosed(): void {
    this.#finish("client", false);
  }

  /** @internal Channels register so the session leaves them when it closes. */
  join(membership: Membership): void {
    if (this.#membership === undefined || this.#membership === membership) {
      this.#membership = membership;
      return;
    }
    this.#memberships ??= new Set();
    this.#memberships.add(membership);
  }

  /** @internal */
  leave(membership: Membership): void {
    if (this.#membership === membership) this.#membership = undefined;
    else this.#memberships?.delete(membership);
  }

  #enqueue(bytes: Uint8Array): boolean {
    const queue = this.#queue;
    if (queue === undefined) return false;
    queue.push(bytes);
    this.#queuedBytes += bytes.byteLength;
    while (this.#queuedBytes > this.#maxBuffered && queue.length > 1) {
      const oldest = queue.shift();
      if (oldest) this.#queuedBytes -= oldest.byteLength;
      this.#dropped++;
    }
    return true;
  }

  #onDrain = (): void => {
    const queue = this.#queue;
    if (!this.#open || queue === undefined) return;
    this.#queue = undefined;
    this.#queuedBytes = 0;
    if (this.#dropped > 0) {
      this.#sink.write(encodeBytes({ comment: `ssekit dropped ${this.#dropped} events` }));
      this.#dropped = 0;
    }
    // Writing through writeBytes re-applies the bound, so a still-slow client queues again.
    for (const bytes of queue) this.writeBytes(bytes);
  };

  #finish(reason: CloseReason, abort: boolean): void {
    if (!this.#open) return;
    this.#open = false;
    this.#queue = undefined;
    if (this.#heartbeatMs > 0) unregisterHeartbeat(this.#heartbeatMs, this);
    const membership = this.#membership;
    const memberships = this.#memberships;
    this.#membership = undefined;
    this.#memberships = undefined;
    membership?.detach(this);
    if (memberships) for (const m of memberships) m.detach(this);
    if (abort) this.#sink.destroy();
    else this.#sink.end();
    // A closed session that user code still holds must not hold the connection and its buffers.
    this.#sink = CLOSED_SINK;
    this.#reason = reason;
    this.#resolveClosed?.(reason);
    this.#resolveClosed = undefined;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener(reason);
  }
}
