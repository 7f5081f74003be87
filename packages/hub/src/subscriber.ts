/**
 * One subscriber's event stream over a response: writes the SSE headers, heartbeat comments,
 * encoded updates (the same bytes for every subscriber of an update), and holds live updates in a
 * buffer while history is being replayed so that the stream has no gap and no duplicate. A
 * subscriber that does not read (more than `maxBufferedBytes` unflushed) is disconnected; its client
 * resumes with Last-Event-ID. Not responsible for deciding which updates it may receive (the broker
 * asks `accepts`).
 */
import { randomUUID } from "node:crypto";
import { encodeBytes, encodeComment } from "ssekit/protocol";
import type { Rights } from "./auth.js";
import { canReceive } from "./auth.js";
import { buffered, type HubResponse, writeChunk } from "./http.js";
import type { StoredUpdate } from "./stores/store.js";
import type { Selector } from "./topics.js";

/** An update together with its wire bytes, encoded once. */
export interface Dispatch {
  readonly update: StoredUpdate;
  readonly bytes: Uint8Array;
}

export function encodeUpdate(update: StoredUpdate): Uint8Array {
  return encodeBytes({ id: update.id, event: update.type, data: update.data, retry: update.retry });
}

export interface SubscriberOptions {
  readonly res: HubResponse;
  readonly selectors: readonly Selector[];
  readonly rights: Rights;
  readonly heartbeatMs: number;
  readonly maxBufferedBytes: number;
  readonly onClose: (subscriber: Subscriber, reason: string) => void;
  readonly onDeliver: () => void;
}

const HEARTBEAT = encodeComment();

export class Subscriber {
  /** `urn:uuid:...`, the subscriber's id in the subscriptions API. */
  readonly id = `urn:uuid:${randomUUID()}`;
  readonly selectors: readonly Selector[];
  readonly rights: Rights;
  readonly #res: HubResponse;
  readonly #options: SubscriberOptions;
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

  /** A live update: sent now, or held until replay has finished. */
  deliver(dispatch: Dispatch): void {
    if (this.#closed) return;
    if (this.#pending !== undefined) this.#pending.push(dispatch);
    else this.#send(dispatch);
  }

  /** An update from history during replay. */
  replay(update: StoredUpdate): void {
    if (this.#closed) return;
    this.#send({ update, bytes: encodeUpdate(update) });
  }

  /** Replay is over: sends the held live updates not already replayed, then goes live. */
  goLive(): void {
    const pending = this.#pending ?? [];
    this.#pending = undefined;
    for (const dispatch of pending) this.#send(dispatch);
  }

  #send(dispatch: Dispatch): void {
    if (dispatch.update.seq <= this.#lastSeq) return;
    this.#lastSeq = dispatch.update.seq;
    if (this.#write(dispatch.bytes)) this.#options.onDeliver();
  }

  #write(bytes: Uint8Array | string): boolean {
    if (this.#closed) return false;
    if (buffered(this.#res) > this.#options.maxBufferedBytes) {
      this.close("slow consumer: send buffer full");
      this.#res.destroy();
      return false;
    }
    writeChunk(this.#res, bytes);
    return true;
  }

  /** Ends the stream, first telling the client when to reconnect if `retryMs` is given. */
  close(reason: string, retryMs?: number): void {
    if (this.#closed) return;
    if (retryMs !== undefined && !this.#res.writableEnded)
      writeChunk(this.#res, encodeBytes({ retry: retryMs }));
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#expiry);
    if (!this.#res.writableEnded) this.#res.end();
    this.#options.onClose(this, reason);
  }
}
