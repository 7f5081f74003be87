/**
 * One subscriber: its selectors and rights, and its event stream, an `ssekit/server` session
 * (headers, heartbeats, write batching, the send-buffer bound). It holds live updates while
 * history is replayed, so the stream has no gap and no duplicate. Not responsible for deciding
 * which updates it may receive (the broker asks `accepts`) nor for reading history (replay.ts).
 */
import { randomUUID } from "node:crypto";
import { encodeBytes } from "ssekit/protocol";
import { type CloseReason, Framed, replay, type Session, type SessionOptions } from "ssekit/server";
import type { Rights } from "../domain/auth.js";
import { canReceive } from "../domain/auth.js";
import type { Selector } from "../domain/topics.js";
import type { StoredUpdate } from "../domain/update.js";

/**
 * Opens the event stream a subscriber writes to, with these options: `createSession` on a request
 * and response, or `createStreamSession` on an HTTP/2 stream.
 */
export type OpenStream = (options: SessionOptions) => Session;

/**
 * An update together with its wire frame, encoded once for every subscriber, on first use.
 * `ephemeral`: not in history (subscription events), so it has no place of its own in the log
 * order and is never skipped as already replayed.
 */
export class Dispatch {
  #frame: Framed | undefined;
  constructor(
    readonly update: StoredUpdate,
    readonly ephemeral = false,
  ) {}
  get frame(): Framed {
    const { id, type, data, retry } = this.update;
    this.#frame ??= new Framed(encodeBytes({ id, event: type, data, retry }));
    return this.#frame;
  }
}

export function dispatchOf(update: StoredUpdate): Dispatch {
  return new Dispatch(update);
}

/**
 * What every subscriber of one hub shares: its stream settings and the hub's callbacks. One
 * object per hub, so that a subscriber holds no options object or closures of its own.
 */
export interface SubscriberHost {
  /** Unflushed bytes past which a subscriber is disconnected as a slow consumer. */
  readonly maxBufferedBytes: number;
  /** Unflushed bytes at which a replay waits for the client to read before writing more. */
  readonly replayHighWater: number;
  /** Milliseconds between heartbeat comments; 0: none. */
  readonly heartbeatMs: number;
  /** The `retry` sent when a stream opens. */
  readonly retryMs: number;
  /** Called once when the subscriber closes, with why. */
  onClose(subscriber: Subscriber, reason: string): void;
  /** Called with how many updates were written from history and from the held buffer (live fan-out counts its own). */
  onDeliver(count: number): void;
}

/** Live updates held while history is replayed, and their bytes. */
interface Held {
  readonly dispatches: Dispatch[];
  bytes: number;
}

const WHY: Readonly<Record<CloseReason, string>> = {
  client: "client went away",
  backpressure: "slow consumer: send buffer full",
  server: "stream ended",
};

/**
 * `text` as one flat string: a concatenation is a pair of strings until read, which V8 then
 * flattens and the garbage collector drops the pair for the flat one (some 24 bytes per subscriber).
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

// Shared by every expiry timer (the subscriber is the timer's argument): no closure per subscriber.
function expire(subscriber: Subscriber): void {
  subscriber.close("token expired");
}

export class Subscriber {
  /** `urn:uuid:...`, the subscriber's id in the subscriptions API. */
  readonly id = flat(`urn:uuid:${randomUUID()}`);
  readonly selectors: readonly Selector[];
  readonly rights: Rights;
  readonly #host: SubscriberHost;
  /** Undefined until `open` (nothing is written before), null once closed. */
  #session: Session | undefined | null;
  /** Undefined once live. */
  #held: Held | undefined = { dispatches: [], bytes: 0 };
  #lastSeq = 0;
  #expiry: NodeJS.Timeout | undefined;

  /** A token with an expiry gets a timer that closes the stream when it expires. */
  constructor(selectors: readonly Selector[], rights: Rights, host: SubscriberHost) {
    this.#host = host;
    // An exact-size copy: an array built by push keeps room for some sixteen more (0.1 KiB).
    this.selectors = selectors.slice();
    this.rights = rights;
    const expiresAt = rights.expiresAt;
    if (expiresAt !== undefined) {
      // setTimeout takes at most 2^31-1 ms; a token valid longer than ~24 days is re-checked then.
      const delay = Math.min(Math.max(0, expiresAt - Date.now()), 2_147_483_647);
      this.#expiry = setTimeout(expire, delay, this);
      this.#expiry.unref();
    }
  }

  get closed(): boolean {
    return this.#session === null;
  }

  accepts(update: StoredUpdate): boolean {
    return canReceive(update, this.selectors, this.rights);
  }

  /**
   * Opens the event stream with `openStream`, with the hub's `headers` besides the event-stream
   * ones; updates and heartbeats follow. False when the subscriber was closed before (the caller
   * ends the response).
   */
  open(openStream: OpenStream, headers: Readonly<Record<string, string>>): boolean {
    if (this.#session !== undefined) return false;
    const host = this.#host;
    const session = openStream({
      headers,
      retry: host.retryMs,
      heartbeat: host.heartbeatMs,
      maxBufferedBytes: host.maxBufferedBytes,
      // The hub listens to the session only: node:http's request objects can go (half the memory).
      detach: true,
    });
    this.#session = session;
    // The subscriber itself is told of the close: no closure per subscriber.
    session.onClose(this);
    return true;
  }

  /** The session closed by itself (its client went away, or it passed the send-buffer bound). */
  handleClose(reason: CloseReason): void {
    // Null: closed by `close` or `#end`, which tell the host themselves.
    if (this.#session === null) return;
    this.#session = null;
    this.#closeDown(WHY[reason]);
  }

  /**
   * A live update: written now (true), or held until replay has finished, or skipped (false). A
   * subscriber whose held updates outgrow `maxBufferedBytes` (its replay is not being read) is
   * disconnected as a slow consumer would be.
   */
  deliver(dispatch: Dispatch): boolean {
    if (this.#session === null) return false;
    const held = this.#held;
    if (held !== undefined) {
      held.bytes += dispatch.frame.bytes.byteLength;
      if (held.bytes > this.#host.maxBufferedBytes) {
        this.#end("slow consumer: replay not read while live updates arrived", "abort");
        return false;
      }
      held.dispatches.push(dispatch);
      return false;
    }
    return this.#send(dispatch);
  }

  /** The frame of `update` from history if this subscriber may receive it and has not yet. */
  historyFrame(update: StoredUpdate): Framed | undefined {
    if (this.#session === null || !this.accepts(update) || update.seq <= this.#lastSeq) return undefined;
    this.#lastSeq = update.seq;
    return dispatchOf(update).frame;
  }

  /** Writes `frames` of history, at the pace the client reads (`replay` of ssekit/server). */
  async replay(frames: AsyncIterable<Framed>): Promise<void> {
    const session = this.#session;
    if (!session) return;
    const written = await replay(session, frames, { highWaterBytes: this.#host.replayHighWater });
    if (written > 0) this.#host.onDeliver(written);
  }

  /** Replay is over: sends the held live updates not already replayed, then goes live. */
  goLive(): void {
    const held = this.#held;
    this.#held = undefined;
    if (held === undefined) return;
    let written = 0;
    for (const dispatch of held.dispatches) if (this.#send(dispatch)) written++;
    if (written > 0) this.#host.onDeliver(written);
  }

  #send(dispatch: Dispatch): boolean {
    if (!dispatch.ephemeral) {
      if (dispatch.update.seq <= this.#lastSeq) return false;
      this.#lastSeq = dispatch.update.seq;
    }
    return this.#session?.writeFrame(dispatch.frame) ?? false;
  }

  /** Ends the stream, first telling the client when to reconnect if `retryMs` is given. */
  close(reason: string, retryMs?: number): void {
    this.#end(reason, retryMs === undefined ? "end" : { retry: retryMs });
  }

  #end(reason: string, how: "end" | "abort" | { readonly retry: number }): void {
    const session = this.#session;
    if (session === null) return;
    this.#session = null;
    if (session !== undefined) {
      if (how === "abort") session.abort();
      else session.close(how === "end" ? {} : how);
    }
    this.#closeDown(reason);
  }

  #closeDown(reason: string): void {
    this.#held = undefined;
    clearTimeout(this.#expiry);
    this.#host.onClose(this, reason);
  }
}
