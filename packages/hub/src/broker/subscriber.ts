/**
 * One subscriber's event stream over a response: opens the stream (status, headers, first bytes),
 * then writes heartbeat comments and encoded updates (the same frame for every subscriber of an
 * update), and holds live updates in a buffer while history is being replayed so that the stream
 * has no gap and no duplicate. A subscriber that does not read (more than `maxBufferedBytes`
 * unflushed) is disconnected; its client resumes with Last-Event-ID. Not responsible for deciding
 * which updates it may receive (the broker asks `accepts`) nor for how bytes reach the socket
 * (sink.ts).
 */
import { randomUUID } from "node:crypto";
import { encodeBytes } from "ssekit/protocol";
import { Framed } from "ssekit/server/http1";
import type { Rights } from "../domain/auth.js";
import { canReceive } from "../domain/auth.js";
import type { Selector } from "../domain/topics.js";
import type { StoredUpdate } from "../domain/update.js";
import type { HubRequest, HubResponse } from "../http/http.js";
import { openStream, type Sink } from "../http/sink.js";

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
 * What every subscriber of one hub shares: its send-buffer bound and the hub's callbacks. One
 * object per hub, so that a subscriber holds no options object or closures of its own.
 */
export interface SubscriberHost {
  /** Unflushed bytes past which a subscriber is disconnected as a slow consumer. */
  readonly maxBufferedBytes: number;
  /** Unflushed bytes at which a replay waits for the client to read before writing more. */
  readonly replayHighWater: number;
  /** Called once when the subscriber closes, with why. */
  onClose(subscriber: Subscriber, reason: string): void;
  /** Called with how many updates were written from history and from the held buffer (live fan-out counts its own). */
  onDeliver(count: number): void;
}

const HEARTBEAT = new Framed(encodeBytes({ comment: "" }));

const subscriberOf = Symbol("ssekit.hub.subscriber");
type Tagged = HubResponse & { [subscriberOf]?: Subscriber | undefined };

// One listener function for every response, finding its subscriber through a symbol: no closure per subscriber.
function onResponseClose(this: Tagged): void {
  const subscriber = this[subscriberOf];
  this[subscriberOf] = undefined;
  subscriber?.close("client went away");
}

// Shared by every expiry timer (the subscriber is the timer's argument): no closure per subscriber.
function expire(subscriber: Subscriber): void {
  subscriber.close("token expired");
}

export class Subscriber {
  /** `urn:uuid:...`, the subscriber's id in the subscriptions API. */
  readonly id = `urn:uuid:${randomUUID()}`;
  readonly selectors: readonly Selector[];
  readonly rights: Rights;
  readonly #res: HubResponse;
  readonly #host: SubscriberHost;
  /** Set by `open`; nothing is written before. */
  #sink: Sink | undefined;
  /** Live updates held while replaying; undefined once live. */
  #pending: Dispatch[] | undefined = [];
  /** Bytes of the frames in `#pending`: bounded by `maxBufferedBytes` as the socket's buffer is. */
  #pendingBytes = 0;
  #lastSeq = 0;
  #closed = false;
  #expiry: NodeJS.Timeout | undefined;

  /**
   * Heartbeats are not the subscriber's: the hub calls `heartbeat()` on every subscriber from one
   * timer. A token with an expiry gets a timer that closes the stream when it expires.
   */
  constructor(res: HubResponse, selectors: readonly Selector[], rights: Rights, host: SubscriberHost) {
    this.#res = res;
    this.#host = host;
    // An exact-size copy: an array built by push keeps room for some sixteen more (0.1 KiB).
    this.selectors = selectors.slice();
    this.rights = rights;
    (res as Tagged)[subscriberOf] = this;
    res.on("close", onResponseClose);
    const expiresAt = rights.expiresAt;
    if (expiresAt !== undefined) {
      // setTimeout takes at most 2^31-1 ms; a token valid longer than ~24 days is re-checked then.
      const delay = Math.min(Math.max(0, expiresAt - Date.now()), 2_147_483_647);
      this.#expiry = setTimeout(expire, delay, this);
      this.#expiry.unref();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  accepts(update: StoredUpdate): boolean {
    return canReceive(update, this.selectors, this.rights);
  }

  /** Writes the status, `headers` and `preamble` in answer to `req`; updates and heartbeats follow. */
  open(req: HubRequest, headers: Readonly<Record<string, string>>, preamble: string): void {
    if (this.#closed || this.#sink !== undefined) return;
    this.#sink = openStream(req, this.#res, headers, preamble);
  }

  /** Writes a heartbeat comment (once open; a slow consumer is disconnected instead). */
  heartbeat(): void {
    this.#write(HEARTBEAT);
  }

  /**
   * A live update: written now (true), or held until replay has finished, or skipped (false). A
   * subscriber whose held updates outgrow `maxBufferedBytes` (its replay is not being read) is
   * disconnected as a slow consumer would be.
   */
  deliver(dispatch: Dispatch): boolean {
    if (this.#closed) return false;
    if (this.#pending !== undefined) {
      this.#pendingBytes += dispatch.frame.bytes.byteLength;
      if (this.#pendingBytes > this.#host.maxBufferedBytes) {
        this.#disconnectSlow("slow consumer: replay not read while live updates arrived");
        return false;
      }
      this.#pending.push(dispatch);
      return false;
    }
    return this.#send(dispatch);
  }

  /**
   * One update from history during replay (oldest first): written if this subscriber may receive
   * it. The replay loop then asks `mustWait` before writing more, so a replay of any size reaches a
   * client that reads, and only a client that stops reading is cut off.
   */
  replayOne(update: StoredUpdate): void {
    if (this.#closed || !this.accepts(update)) return;
    if (this.#send(dispatchOf(update))) this.#host.onDeliver(1);
  }

  /** True when the replay should wait for the client to read what was written (`drained()`). */
  mustWait(): boolean {
    const sink = this.#sink;
    return sink !== undefined && !this.#closed && sink.buffered() >= this.#host.replayHighWater;
  }

  /** Resolves once the client has read what was written, or the stream has closed. */
  drained(): Promise<void> {
    return this.#sink?.drained() ?? Promise.resolve();
  }

  /** Replay is over: sends the held live updates not already replayed, then goes live. */
  goLive(): void {
    const pending = this.#pending ?? [];
    this.#pending = undefined;
    this.#pendingBytes = 0;
    let written = 0;
    for (const dispatch of pending) if (this.#send(dispatch)) written++;
    if (written > 0) this.#host.onDeliver(written);
  }

  #send(dispatch: Dispatch): boolean {
    if (!dispatch.ephemeral) {
      if (dispatch.update.seq <= this.#lastSeq) return false;
      this.#lastSeq = dispatch.update.seq;
    }
    return this.#write(dispatch.frame);
  }

  #write(frame: Framed): boolean {
    const sink = this.#sink;
    if (this.#closed || sink === undefined) return false;
    if (sink.buffered() > this.#host.maxBufferedBytes) {
      this.#disconnectSlow("slow consumer: send buffer full");
      return false;
    }
    sink.write(frame);
    return true;
  }

  #disconnectSlow(reason: string): void {
    this.close(reason);
    this.#res.destroy();
  }

  /** Ends the stream, first telling the client when to reconnect if `retryMs` is given. */
  close(reason: string, retryMs?: number): void {
    if (this.#closed) return;
    if (retryMs !== undefined && !this.#res.writableEnded)
      this.#sink?.write(new Framed(encodeBytes({ retry: retryMs })));
    this.#closed = true;
    clearTimeout(this.#expiry);
    (this.#res as Tagged)[subscriberOf] = undefined;
    if (!this.#res.writableEnded) this.#res.end();
    this.#host.onClose(this, reason);
  }
}
