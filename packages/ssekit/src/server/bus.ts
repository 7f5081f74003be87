/**
 * The channel bus: the contract of a log shared by many processes (append in one order, follow,
 * read after an id) that a channel spans them with. No implementation and no I/O here:
 * `@ssekit/redis` provides one on Redis Streams.
 */

/** An event to append, as `broadcast` made it (data already serialized). */
export interface BusMessage {
  readonly data: string;
  readonly event?: string | undefined;
  /** The caller's own id for the event; absent, the event's id is its position. */
  readonly id?: string | undefined;
  readonly retry?: number | undefined;
}

/** An event of the log. */
export interface BusEvent {
  /** Where the event is in the log: unique, ordered by the bus's `compare`. */
  readonly position: string;
  /** The event's id as clients see it: the caller's own, else `position`. */
  readonly id: string;
  readonly event: string | undefined;
  readonly data: string;
  readonly retry: number | undefined;
}

/** What `after` found. */
export type BusReplay =
  /** `events` come right after the id, which sits at `position` in the log. */
  | { readonly kind: "found"; readonly position: string; readonly events: readonly BusEvent[] }
  /** Events after the id have left the log: `events` are the oldest kept. */
  | { readonly kind: "too-old"; readonly events: readonly BusEvent[] }
  /** The id is not one of this log's. */
  | { readonly kind: "unknown" };

/** A running subscription to the log's new events; see `ChannelBus.follow`. */
export interface BusFollower {
  /**
   * Resolves once the follower knows where it starts: every event appended after that reaches it.
   * Rejects when the latest attempt to find out failed (the follower keeps trying).
   */
  started(): Promise<void>;
  /** Stops following. */
  close(): Promise<void>;
}

export interface ChannelBus {
  /**
   * Appends an event; resolves with its id once the log holds it. Rejects when it was not (or may
   * not have been) appended, and when the message's own id is still in use in the log.
   */
  append(message: BusMessage): Promise<string>;
  /**
   * Up to `limit` events after the one whose id (its own, or its position) is `lastEventId`, oldest
   * first; `"earliest"` reads from the oldest kept. To read on, pass the last event's position.
   */
  after(lastEventId: string, limit: number): Promise<BusReplay>;
  /**
   * Calls `deliver` with every event appended from now on (by any process), in log order, each
   * exactly once, batch by batch, across outages of the log, until `close`.
   */
  follow(deliver: (events: readonly BusEvent[]) => void): BusFollower;
  /** Orders two positions: negative when `a` comes first, 0 when equal, positive after. */
  compare(a: string, b: string): number;
}
