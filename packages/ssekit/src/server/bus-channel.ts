/**
 * A channel across processes (`createChannel({ bus })`): `broadcast` appends to the shared log and
 * every process writes what it reads back to its own members, in the log's one order; a session
 * joining with a last event id gets what followed from the log, then live events, no gap, no
 * duplicate. Not responsible for the log itself (bus.ts is the contract) or in-process channels.
 */
import { encodeBytes, validateMessage } from "../protocol/index.js";
import type { BusEvent, BusFollower, ChannelBus } from "./bus.js";
import type { AddOptions, SessionFilter } from "./channel.js";
import { Framed } from "./chunked.js";
import { SseServerError } from "./errors.js";
import { TRUNCATED_COMMENT, UNKNOWN_ID_COMMENT } from "./history.js";
import { type PollBatch, type PollOptions, type PollSource, pollResponse } from "./poll.js";
import { type Session, toEventMessage } from "./session.js";
import type { EventMap, OutgoingMessage, SendOptions } from "./types.js";

export interface BusChannelOptions {
  /**
   * The shared log the channel broadcasts through and replays from, for example
   * `redisChannelBus(...)` from `@ssekit/redis`. Its bounds (count, age) are the channel's history.
   */
  readonly bus: ChannelBus;
}

/**
 * What `add` did with the session's last event id: `found` (replayed exactly), `too-old` (the
 * events after it left the log; everything kept was replayed after `: ssekit history-truncated`),
 * `unknown` (`: ssekit unknown-last-event-id`, live events follow), `unavailable` (the log could not
 * be read: the session was closed, so its client reconnects and asks again).
 */
export interface BusReplayResult {
  readonly kind: "found" | "too-old" | "unknown" | "unavailable";
}

/** How many events one replay read asks the bus for. */
const PAGE = 1_000;

/** An event read from the log, encoded once for every session of this process. */
interface Live {
  readonly event: BusEvent;
  readonly bytes: Uint8Array;
  readonly framed: Framed;
}

/** A session whose replay is being read. */
interface Pending {
  readonly filter: SessionFilter | undefined;
  /** Live events that arrived meanwhile, written after the replay. */
  readonly held: Live[];
  /** Set once the replay is written: the position the session has every event up to (undefined: none). */
  upTo: string | undefined;
  replayed: boolean;
}

function encodeEvent(event: BusEvent): Uint8Array | undefined {
  try {
    return encodeBytes({ event: event.event, data: event.data, id: event.id, retry: event.retry });
  } catch {
    // Written to the log by something other than a channel, with fields no client could read back.
    return undefined;
  }
}

/**
 * Whether `filter` lets `event` through. Delivery runs in the follower, not in a caller's
 * `broadcast`, so a filter that throws must cost only its own session the event, not the members
 * after it.
 */
function passes(filter: SessionFilter | undefined, event: BusEvent): boolean {
  if (filter === undefined) return true;
  try {
    return filter(event);
  } catch {
    return false;
  }
}

export class BusChannel<M extends EventMap = EventMap> {
  readonly #bus: ChannelBus;
  readonly #members = new Set<Session>();
  #filters: Map<Session, SessionFilter> | undefined;
  #pending: Map<Session, Pending> | undefined;
  readonly #follower: BusFollower;
  /** The position and id of the newest event this process has read from the log. */
  #position: string | undefined;
  #lastEventId: string | undefined;
  #closed = false;
  #waiters: Set<() => void> | undefined;

  constructor(options: BusChannelOptions) {
    const bus = options.bus;
    if (
      typeof bus?.append !== "function" ||
      typeof bus.after !== "function" ||
      typeof bus.follow !== "function" ||
      typeof bus.compare !== "function"
    ) {
      throw new SseServerError(
        "INVALID_OPTION",
        "bus must be a ChannelBus (append, after, follow, compare), for example redisChannelBus() from @ssekit/redis",
      );
    }
    this.#bus = bus;
    this.#follower = bus.follow((events) => this.#deliver(events));
  }

  /**
   * Resolves once the channel follows the log (one round trip to it after the channel is made):
   * from then on every event appended by any process reaches this process's members. A session
   * added earlier gets the events read after that point. Rejects when the log could not be reached
   * on the latest attempt (the channel keeps trying); await it before serving to fail fast.
   */
  ready(): Promise<void> {
    return this.#follower.started();
  }

  /** How many sessions of this process are members now (including those still being replayed to). */
  get size(): number {
    return this.#members.size + (this.#pending?.size ?? 0);
  }

  /** The id of the newest event this process has read from the log, if any. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  has(session: Session): boolean {
    return this.#members.has(session) || (this.#pending?.has(session) ?? false);
  }

  /**
   * Adds a session of this process. Without a last event id it joins at once. With one (the
   * session's `lastEventId` by default), the events after it are read from the log and written
   * first, then live events, with no gap and no duplicate; live events that arrive meanwhile wait.
   * Resolves with what the replay found; never rejects.
   */
  add(session: Session<EventMap>, options: AddOptions = {}): Promise<BusReplayResult | undefined> {
    if (!session.isOpen || this.#closed || this.has(session)) return Promise.resolve(undefined);
    const filter = options.filter;
    const lastEventId = options.lastEventId === undefined ? session.lastEventId : options.lastEventId;
    if (lastEventId === null || lastEventId === undefined) {
      this.#join(session, filter);
      return Promise.resolve(undefined);
    }
    const pending: Pending = { filter, held: [], upTo: undefined, replayed: false };
    this.#pending ??= new Map();
    this.#pending.set(session, pending);
    session.join(this);
    return this.#replay(session, lastEventId, pending);
  }

  #join(session: Session, filter: SessionFilter | undefined): void {
    this.#members.add(session);
    if (filter) {
      this.#filters ??= new Map();
      this.#filters.set(session, filter);
    }
    session.join(this);
  }

  async #replay(session: Session, lastEventId: string, pending: Pending): Promise<BusReplayResult> {
    const bus = this.#bus;
    const filter = pending.filter;
    let kind: BusReplayResult["kind"];
    let upTo: string | undefined;
    try {
      // Read only once the follower has its start: the read then reaches at least that far.
      await this.#follower.started();
      let result = await bus.after(lastEventId, PAGE);
      if (result.kind === "unknown") {
        kind = "unknown";
        session.comment(UNKNOWN_ID_COMMENT);
      } else {
        kind = result.kind;
        if (result.kind === "found") upTo = result.position;
        for (;;) {
          if (result.kind === "unknown") break;
          if (result.kind === "too-old") session.comment(TRUNCATED_COMMENT);
          for (const event of result.events) {
            const bytes = encodeEvent(event);
            if (bytes && passes(filter, event)) session.writeBytes(bytes);
          }
          upTo = result.events.at(-1)?.position ?? upTo;
          if (result.events.length < PAGE || !session.isOpen || upTo === undefined) break;
          result = await bus.after(upTo, PAGE);
        }
      }
    } catch {
      // The log is unreachable: close, so the client comes back later with the same Last-Event-ID.
      if (this.#pending?.delete(session)) session.leave(this);
      session.close();
      return { kind: "unavailable" };
    }
    if (!session.isOpen || this.#pending?.get(session) !== pending) return { kind };
    for (const live of pending.held) {
      if (upTo !== undefined && this.#bus.compare(live.event.position, upTo) <= 0) continue;
      if (passes(filter, live.event)) session.writeBytes(live.bytes, live.framed);
      upTo = live.event.position;
    }
    pending.held.length = 0;
    pending.upTo = upTo;
    pending.replayed = true;
    // The read may have gone past what this process has read from the log so far: until the
    // follower catches up, the session stays pending and skips what it already has.
    if (upTo === undefined || (this.#position !== undefined && bus.compare(this.#position, upTo) >= 0)) {
      this.#promote(session, pending);
    }
    return { kind };
  }

  #promote(session: Session, pending: Pending): void {
    this.#pending?.delete(session);
    this.#members.add(session);
    if (pending.filter) {
      this.#filters ??= new Map();
      this.#filters.set(session, pending.filter);
    }
  }

  /** Removes a session (it stays open). Returns whether it was a member. */
  remove(session: Session<EventMap>): boolean {
    const was = this.#members.delete(session) || (this.#pending?.delete(session) ?? false);
    if (!was) return false;
    this.#filters?.delete(session);
    session.leave(this);
    return true;
  }

  /** @internal A closing session leaves. */
  detach(session: Session): void {
    this.#members.delete(session);
    this.#filters?.delete(session);
    this.#pending?.delete(session);
  }

  /** Writes what the follower read from the log to this process's members, in log order. */
  #deliver(events: readonly BusEvent[]): void {
    if (this.#closed) return;
    const compare = this.#bus.compare;
    for (const event of events) {
      const bytes = encodeEvent(event);
      if (bytes === undefined) continue;
      const framed = new Framed(bytes);
      const filters = this.#filters;
      if (filters === undefined || filters.size === 0) {
        for (const session of this.#members) session.writeBytes(bytes, framed);
      } else {
        for (const session of this.#members) {
          if (passes(filters.get(session), event)) session.writeBytes(bytes, framed);
        }
      }
      const pending = this.#pending;
      if (pending === undefined || pending.size === 0) continue;
      for (const [session, state] of pending) {
        if (!state.replayed) state.held.push({ event, bytes, framed });
        else if (state.upTo === undefined || compare(event.position, state.upTo) > 0) {
          if (passes(state.filter, event)) session.writeBytes(bytes, framed);
        }
      }
    }
    const last = events.at(-1);
    if (last === undefined) return;
    this.#position = last.position;
    this.#lastEventId = last.id;
    if (this.#pending && this.#pending.size > 0) {
      for (const [session, state] of this.#pending) {
        if (state.replayed && (state.upTo === undefined || compare(last.position, state.upTo) >= 0)) {
          this.#promote(session, state);
        }
      }
    }
    if (this.#waiters) {
      const waiters = this.#waiters;
      this.#waiters = undefined;
      for (const wake of waiters) wake();
    }
  }

  /**
   * Sends one event to every member of the channel on every process: `broadcast(message)` or the
   * typed `broadcast(event, data, options?)`. Resolves with the event's id (its own, else the
   * log's position) once the log holds it; members, here and elsewhere, get it as each process
   * reads it from the log. Rejects when the event was not appended (the log is unreachable, the
   * id is still in use in the log, the channel is closed): nothing was sent then. Always handle
   * the rejection (`await` it, or `.catch`).
   */
  broadcast(message: OutgoingMessage): Promise<string>;
  broadcast<K extends keyof M & string>(event: K, data: M[K], options?: SendOptions): Promise<string>;
  async broadcast(first: OutgoingMessage | string, data?: unknown, options?: SendOptions): Promise<string> {
    if (this.#closed)
      throw new SseServerError("CHANNEL_CLOSED", "broadcast on a closed channel: nothing was sent");
    const message = toEventMessage(first, data, options);
    validateMessage(message);
    await this.#follower.started();
    return this.#bus.append(message);
  }

  /** Writes a comment to the members on this process (comments do not go through the log). */
  comment(text = ""): void {
    const bytes = encodeBytes({ comment: text });
    for (const session of this.#members) session.writeBytes(bytes);
  }

  /**
   * Closes the members on this process (after the bytes already written) and stops following the
   * log; resolves once the follower has stopped. The bus itself stays open (close it where it was made).
   */
  close(options: { readonly retry?: number } = {}): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      const sessions = [...this.#members, ...(this.#pending?.keys() ?? [])];
      for (const session of sessions) session.close(options);
      this.#members.clear();
      this.#pending = undefined;
      this.#filters = undefined;
      if (this.#waiters) for (const wake of this.#waiters) wake();
      this.#waiters = undefined;
    }
    return this.#follower.close();
  }

  /**
   * Answers a request of the polling protocol (docs/polling.md) from the shared log, on any process;
   * 503 when the log cannot be read.
   */
  poll(request: Request, options?: PollOptions): Promise<Response> {
    return pollResponse(this.#pollSource(), request, options);
  }

  #pollSource(): PollSource {
    const channel = this;
    const bus = this.#bus;
    return {
      get isClosed() {
        return channel.#closed;
      },
      current: () => channel.#lastEventId ?? "",
      onNextEvent: (wake) => this.#onNextEvent(wake),
      async read(last: string, max: number): Promise<PollBatch> {
        const result = await bus.after(last, max);
        if (result.kind === "found") return { events: result.events, reset: false };
        if (result.kind === "too-old") return { events: result.events, reset: last !== "earliest" };
        const kept = await bus.after("earliest", max);
        return { events: kept.kind === "unknown" ? [] : kept.events, reset: true };
      },
    };
  }

  #onNextEvent(wake: () => void): () => void {
    if (this.#closed) {
      wake();
      return () => {};
    }
    this.#waiters ??= new Set();
    this.#waiters.add(wake);
    return () => this.#waiters?.delete(wake);
  }
}
