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
import { encodeBytes, encodeComment } from "ssekit/protocol";
import type { Rights } from "./auth.js";
import { canReceive } from "./auth.js";
import type { HubRequest, HubResponse } from "./http.js";
import { Frame, openStream, type Sink } from "./sink.js";
import type { StoredUpdate } from "./stores/store.js";
import type { Selector } from "./topics.js";

/** An update together with its wire frame, encoded once for every subscriber, on first use. */
export class Dispatch {
  #frame: Frame | undefined;
  constructor(readonly update: StoredUpdate) {}
  get frame(): Frame {
    const { id, type, data, retry } = this.update;
    this.#frame ??= new Frame(encodeBytes({ id, event: type, data, retry }));
    return this.#frame;
  }
}

export function dispatchOf(update: StoredUpdate): Dispatch {
  return new Dispatch(update);
}

export interface SubscriberOptions {
  readonly req: HubRequest;
  readonly res: HubResponse;
  readonly selectors: readonly Selector[];
  readonly rights: Rights;
  readonly heartbeatMs: number;
  readonly maxBufferedBytes: number;
  readonly onClose: (subscriber: Subscriber, reason: string) => void;
  /** Called with how many updates were written from history and from the held buffer (live fan-out counts its own). */
  readonly onDeliver: (count: number) => void;
}

const HEARTBEAT = new Frame(encodeComment());

export class Subscriber {
  /** `urn:uuid:...`, the subscriber's id in the subscriptions API. */
  readonly id = `urn:uuid:${randomUUID()}`;
  readonly selectors: readonly Selector[];
  readonly rights: Rights;
  readonly #res: HubResponse;
  readonly #options: SubscriberOptions;
  /** Set by `open`; nothing is written before. */
  #sink: Sink | undefined;
  /** Live updates held while replaying; undefined once live. */
  #pending: Dispatch[] | undefined = [];
  #lastSeq = 0;
  #closed = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #expiry: NodeJS.Timeout | undefined;

  constructor(options: SubscriberOptions) {
    this.#options = options;
    this.#res = options.res;
    this.selectors = options.selectors;
    this.rights = options.rights;
    this.#res.on("close", () => this.close("client went away"));
    if (options.heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => this.#write(HEARTBEAT), options.heartbeatMs);
      this.#heartbeat.unref();
    }
    const expiresAt = options.rights.expiresAt;
    if (expiresAt !== undefined) {
      // setTimeout takes at most 2^31-1 ms; a token valid longer than ~24 days is re-checked then.
      const delay = Math.min(Math.max(0, expiresAt - Date.now()), 2_147_483_647);
      this.#expiry = setTimeout(() => this.close("token expired"), delay);
      this.#expiry.unref();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  accepts(update: StoredUpdate): boolean {
    return canReceive(update, this.selectors, this.rights);
  }

  /** Writes the status, `headers` and `preamble`; updates and heartbeats follow. */
  open(headers: Readonly<Record<string, string>>, preamble: string): void {
    if (this.#closed || this.#sink !== undefined) return;
    this.#sink = openStream(this.#options.req, this.#res, headers, preamble);
  }

  /** A live update: written now (true), or held until replay has finished, or skipped (false). */
  deliver(dispatch: Dispatch): boolean {
    if (this.#closed) return false;
    if (this.#pending !== undefined) {
      this.#pending.push(dispatch);
      return false;
    }
    return this.#send(dispatch);
  }

  /** Updates from history during replay, oldest first; those this subscriber may not receive are skipped. */
  replay(updates: readonly StoredUpdate[]): void {
    let written = 0;
    for (const update of updates) {
      if (this.#closed) break;
      if (this.accepts(update) && this.#send(dispatchOf(update))) written++;
    }
    if (written > 0) this.#options.onDeliver(written);
  }

  /** Replay is over: sends the held live updates not already replayed, then goes live. */
  goLive(): void {
    const pending = this.#pending ?? [];
    this.#pending = undefined;
    let written = 0;
    for (const dispatch of pending) if (this.#send(dispatch)) written++;
    if (written > 0) this.#options.onDeliver(written);
  }

  #send(dispatch: Dispatch): boolean {
    if (dispatch.update.seq <= this.#lastSeq) return false;
    this.#lastSeq = dispatch.update.seq;
    return this.#write(dispatch.frame);
  }

  #write(frame: Frame): boolean {
    const sink = this.#sink;
    if (this.#closed || sink === undefined) return false;
    if (sink.buffered() > this.#options.maxBufferedBytes) {
      this.close("slow consumer: send buffer full");
      this.#res.destroy();
      return false;
    }
    sink.write(frame);
    return true;
  }

  /** Ends the stream, first telling the client when to reconnect if `retryMs` is given. */
  close(reason: string, retryMs?: number): void {
    if (this.#closed) return;
    if (retryMs !== undefined && !this.#res.writableEnded)
      this.#sink?.write(new Frame(encodeBytes({ retry: retryMs })));
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#expiry);
    if (!this.#res.writableEnded) this.#res.end();
    this.#options.onClose(this, reason);
  }
}
