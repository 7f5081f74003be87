/**
 * A channel: sessions that receive the same events, each encoded once, with an optional filter per
 * session and an optional history ring replayed, with no gap and no duplicate, to a session that
 * joins with a last event id. Not responsible for connections or headers (sessions), nor for
 * channels across processes (bus-channel.ts).
 */
import { encodeBytes } from "../protocol/index.js";
import { BusChannel, type BusChannelOptions } from "./bus-channel.js";
import { Framed } from "./chunked.js";
import { checkNonNegativeInteger, SseServerError } from "./errors.js";
import {
  History,
  type HistoryEntry,
  type ReplayResult,
  TRUNCATED_COMMENT,
  UNKNOWN_ID_COMMENT,
} from "./history.js";
import { type PollBatch, type PollOptions, type PollSource, pollRefusal, pollResponse } from "./poll.js";
import { type Session, toEventMessage } from "./session.js";
import type { EventMap, OutgoingMessage, SendOptions } from "./types.js";

/** An event as filters see it: its fields after serialization. */
export interface ChannelEvent {
  readonly event: string | undefined;
  readonly data: string;
  readonly id: string | undefined;
}

/** Decides per session whether an event goes to it. */
export type SessionFilter = (event: ChannelEvent) => boolean;

export interface ChannelOptions {
  /**
   * How many recent events to keep for replay to reconnecting clients. With history on, every
   * event gets an id: the one given, else the channel's sequence number as a decimal string.
   * Default: 0 (no history, no ids assigned).
   */
  readonly history?: number;
}

export interface AddOptions {
  /**
   * Replay the kept events after this id before live ones. Default: the session's own
   * `lastEventId` (from the request). Pass `null` to replay nothing.
   */
  readonly lastEventId?: string | null;
  /** Only events for which this returns true are written to the session. Default: all events. */
  readonly filter?: SessionFilter;
}

export { TRUNCATED_COMMENT, UNKNOWN_ID_COMMENT };

const DECIMAL = /^[1-9][0-9]{0,15}$/;

export class Channel<M extends EventMap = EventMap> {
  // A set entry per member; a filter, where given, in a map made for the first one.
  readonly #members = new Set<Session>();
  #filters: Map<Session, SessionFilter> | undefined;
  readonly #history: History | undefined;
  #seq = 0;
  #closed = false;
  #waiters: Set<() => void> | undefined;

  constructor(options: ChannelOptions = {}) {
    checkNonNegativeInteger("history", options.history);
    this.#history = options.history ? new History(options.history) : undefined;
  }

  /** How many sessions are members now. */
  get size(): number {
    return this.#members.size;
  }

  /** The id of the newest event kept in history, if any. */
  get lastEventId(): string | undefined {
    return this.#history?.newest()?.id;
  }

  /**
   * Where a stream that joins now starts, for `createSession(req, res, { startsAfter })`: the id of
   * the newest kept event, `"earliest"` while the history is empty (a poll from there gets every
   * event), undefined without history (such a channel cannot be polled).
   */
  get startsAfter(): string | undefined {
    if (!this.#history) return undefined;
    return this.#history.newest()?.id ?? "earliest";
  }

  /** @internal The history ring, for polling. */
  get history(): History | undefined {
    return this.#history;
  }

  has(session: Session): boolean {
    return this.#members.has(session);
  }

  /**
   * Adds a session. With history and a last event id, first writes the events after that id.
   * When the id is older than what is kept, writes everything kept, preceded by the comment
   * `: ssekit history-truncated`; when the id is unknown, writes nothing extra and the comment
   * `: ssekit unknown-last-event-id`. A closed session, or one added to a closed channel, is ignored.
   * Returns what the replay found (undefined when nothing was asked).
   */
  add(session: Session<EventMap>, options: AddOptions = {}): ReplayResult | undefined {
    if (!session.isOpen || this.#closed) return undefined;
    if (this.#members.has(session)) return undefined;
    const filter = options.filter;
    const lastEventId = options.lastEventId === undefined ? session.lastEventId : options.lastEventId;
    let result: ReplayResult | undefined;
    if (this.#history && lastEventId !== null && lastEventId !== undefined) {
      result = this.#history.after(lastEventId, ownSeq);
      if (result.kind === "too-old") session.comment(TRUNCATED_COMMENT);
      if (result.kind === "unknown") session.comment(UNKNOWN_ID_COMMENT);
      else for (const entry of result.entries) if (!filter || filter(entry)) session.writeBytes(entry.bytes);
    }
    // Replay and joining happen in the same synchronous step, so no broadcast can fall between.
    if (!session.isOpen) return result;
    this.#members.add(session);
    if (filter) {
      this.#filters ??= new Map();
      this.#filters.set(session, filter);
    }
    session.join(this);
    return result;
  }

  /** Removes a session (it stays open). Returns whether it was a member. */
  remove(session: Session<EventMap>): boolean {
    if (!this.#members.delete(session)) return false;
    this.#filters?.delete(session);
    session.leave(this);
    return true;
  }

  /** @internal A closing session leaves. */
  detach(session: Session): void {
    this.#members.delete(session);
    this.#filters?.delete(session);
  }

  /**
   * Sends one event to every member: `broadcast(message)` or the typed `broadcast(event, data, options?)`.
   * Encodes once and writes the same bytes to each member. Returns the event's id (assigned when
   * history is on and none was given).
   */
  broadcast(message: OutgoingMessage): string | undefined;
  broadcast<K extends keyof M & string>(event: K, data: M[K], options?: SendOptions): string | undefined;
  broadcast(first: OutgoingMessage | string, data?: unknown, options?: SendOptions): string | undefined {
    if (this.#closed) return undefined;
    const message = toEventMessage(first, data, options);
    const seq = ++this.#seq;
    let id = message.id;
    if (this.#history && id === undefined) id = String(seq);
    const bytes = encodeBytes({ ...message, id });
    const entry: HistoryEntry = { seq, id: id ?? "", event: message.event, data: message.data, bytes };
    this.#history?.push(entry);
    const framed = new Framed(bytes);
    const filters = this.#filters;
    if (filters === undefined || filters.size === 0) {
      for (const session of this.#members) session.writeBytes(bytes, framed);
    } else {
      for (const session of this.#members) {
        const filter = filters.get(session);
        if (filter && !filter(entry)) continue;
        session.writeBytes(bytes, framed);
      }
    }
    if (this.#waiters) {
      const waiters = this.#waiters;
      this.#waiters = undefined;
      for (const wake of waiters) wake();
    }
    return id;
  }

  /** Writes a comment to every member. */
  comment(text = ""): void {
    const bytes = encodeBytes({ comment: text });
    for (const session of this.#members) session.writeBytes(bytes);
  }

  /**
   * Closes every member session (after the bytes already written) and the channel. With `retry`,
   * members are told how long to wait before reconnecting. Later `add` and `broadcast` do nothing.
   */
  close(options: { readonly retry?: number } = {}): void {
    this.#closed = true;
    for (const session of [...this.#members]) session.close(options);
    this.#members.clear();
    this.#filters = undefined;
    if (this.#waiters) for (const wake of this.#waiters) wake();
    this.#waiters = undefined;
  }

  /**
   * Answers a request of the polling protocol (docs/polling.md: `?poll=1&lastEventID=ID&timeout=MS`)
   * from this channel's history, for clients that cannot stream. Needs `history`.
   */
  poll(request: Request, options?: PollOptions): Promise<Response> {
    const history = this.#history;
    if (!history)
      return Promise.resolve(
        pollRefusal(400, "this channel keeps no history; create it with createChannel({ history: N })"),
      );
    return pollResponse(ringSource(this as Channel, history), request, options);
  }

  /** @internal Calls `wake` once at the next broadcast or close; returns a function that cancels. */
  onNextEvent(wake: () => void): () => void {
    this.#waiters ??= new Set();
    this.#waiters.add(wake);
    return () => this.#waiters?.delete(wake);
  }

  /** @internal */
  get isClosed(): boolean {
    return this.#closed;
  }
}

function ownSeq(id: string): number | undefined {
  return DECIMAL.test(id) ? Number(id) : undefined;
}

/** Polling reads the in-process channel's ring. */
function ringSource(channel: Channel, history: History): PollSource {
  return {
    get isClosed() {
      return channel.isClosed;
    },
    // "earliest" while the ring is empty: the client's next poll then gets the first event.
    current: () => channel.startsAfter ?? "earliest",
    onNextEvent: (wake) => channel.onNextEvent(wake),
    read(last: string, max: number): PollBatch {
      if (last === "earliest") return { events: history.slice(0).slice(0, max), reset: false };
      const result = history.after(last, ownSeq);
      if (result.kind === "found") return { events: result.entries.slice(0, max), reset: false };
      return { events: history.slice(0).slice(0, max), reset: true };
    },
  };
}

/**
 * Creates a channel. `createChannel({ history? })`: an in-process channel (see `ChannelOptions`).
 * `createChannel({ bus })`: a channel shared by every process on the same bus (see `BusChannel`).
 */
export function createChannel<M extends EventMap = EventMap>(options: BusChannelOptions): BusChannel<M>;
export function createChannel<M extends EventMap = EventMap>(options?: ChannelOptions): Channel<M>;
export function createChannel<M extends EventMap = EventMap>(
  options: ChannelOptions | BusChannelOptions = {},
): Channel<M> | BusChannel<M> {
  if (!("bus" in options) || options.bus === undefined) return new Channel<M>(options as ChannelOptions);
  if ("history" in options && options.history !== undefined) {
    throw new SseServerError(
      "INVALID_OPTION",
      "history and bus cannot be combined: with a bus the history is the bus's log; bound it where the bus is made",
    );
  }
  return new BusChannel<M>(options);
}
