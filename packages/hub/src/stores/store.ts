/**
 * The history store interface: an ordered, bounded log of published updates that assigns each a
 * sequence number, answers "what came after this event id" for replay, and prunes by count and
 * age. Asynchronous so that a networked store (Redis Streams) fits the same shape as the embedded
 * ones. Not responsible for fan-out to subscribers or for authorization.
 */

/** An update as the publisher gave it, after validation. */
export interface Update {
  /** The event id: the publisher's, or `urn:uuid:<uuid>`. */
  readonly id: string;
  /** The update's topics; the first is canonical. Never empty. */
  readonly topics: readonly string[];
  readonly data: string;
  /** Private updates reach only subscribers whose token allows one of the topics. */
  readonly private: boolean;
  /** SSE event type; absent means "message". */
  readonly type?: string | undefined;
  /** SSE `retry` in milliseconds. */
  readonly retry?: number | undefined;
}

/** An update as kept in history: with its position in the log and its publication time. */
export interface StoredUpdate extends Update {
  /** Strictly increasing, never reused, not necessarily contiguous. */
  readonly seq: number;
  /** Milliseconds since the epoch when the store accepted it. */
  readonly time: number;
}

/**
 * `text`, made one flat string: text built by concatenation (JSON.stringify's output too) is a tree
 * of pieces in V8, which a history holding many updates would keep as such. Reading a character
 * flattens it in place, once; a flat string is returned as is.
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

/**
 * The stored form of `update`. Fields are spelled out rather than spread: every stored update gets
 * one object shape, built without the generic copy a spread of a differently shaped object takes.
 */
export function storedUpdate(update: Update, seq: number, time: number): StoredUpdate {
  return {
    id: update.id,
    topics: update.topics,
    data: flat(update.data),
    private: update.private,
    type: update.type,
    retry: update.retry,
    seq,
    time,
  };
}

/** The answer to `after()`. `unknown-id`: the id is not (or no longer) in history; `updates` is then the oldest kept. */
export type AfterResult =
  | { readonly kind: "found"; readonly updates: readonly StoredUpdate[] }
  | { readonly kind: "unknown-id"; readonly updates: readonly StoredUpdate[] };

/**
 * Thrown by `append` when the publisher reuses an event id still in history; `existing` is the
 * update stored under it, so that a retry of the same publish can be told from a different one.
 */
export class DuplicateIdError extends Error {
  readonly code = "DUPLICATE_ID";
  constructor(
    readonly id: string,
    readonly existing?: StoredUpdate,
  ) {
    super(
      `event id "${id}" is already used by a different update in history; omit id to let the hub choose one`,
    );
    this.name = "DuplicateIdError";
  }
}

/** True when `a` and `b` carry the same update (a publisher's retry), whatever their ids and positions. */
export function sameUpdate(a: Update, b: Update): boolean {
  return (
    a.data === b.data &&
    a.private === b.private &&
    (a.type ?? undefined) === (b.type ?? undefined) &&
    (a.retry ?? undefined) === (b.retry ?? undefined) &&
    a.topics.length === b.topics.length &&
    a.topics.every((topic, i) => topic === b.topics[i])
  );
}

/** The data characters one page of history holds at most (beyond its first update): 1 MiB. */
export const PAGE_BYTES = 1_048_576;

/** The first updates of `updates` whose data fits in `maxBytes` characters, at least one. */
export function withinBytes(updates: readonly StoredUpdate[], maxBytes: number): readonly StoredUpdate[] {
  let bytes = 0;
  for (let i = 0; i < updates.length; i++) {
    bytes += updates[i]?.data.length ?? 0;
    if (bytes >= maxBytes) return updates.slice(0, i + 1);
  }
  return updates;
}

export interface HistoryLimits {
  /** Updates kept at most. */
  readonly maxEvents: number;
  /** Milliseconds an update is kept at most. */
  readonly maxAgeMs: number;
}

export interface Store {
  /**
   * Appends an update; resolves only once it is durable (as durable as the store is). Appends must
   * resolve in call order: the hub dispatches each update when its append resolves, so that live
   * delivery follows the log's order.
   */
  append(update: Update): Promise<StoredUpdate>;
  /**
   * Up to `limit` updates after the one with `lastEventId` (`"earliest"`: from the oldest kept),
   * oldest first, and no more once their data has reached `maxBytes` characters (at least one,
   * however large: a page of large updates must not be read into memory whole). `afterSeq`
   * continues a previous page by sequence number instead.
   */
  after(lastEventId: string, limit: number, maxBytes?: number): Promise<AfterResult>;
  /** Up to `limit` updates with a sequence number above `seq`, oldest first, bounded as `after`. */
  afterSeq(seq: number, limit: number, maxBytes?: number): Promise<readonly StoredUpdate[]>;
  /** The id of the newest update kept, or `"earliest"` when history is empty. */
  lastEventId(): Promise<string>;
  /**
   * The id of the newest public (not private) update kept, or `"earliest"`: what the hub tells
   * clients is the newest id, as the id of a private update is not everyone's to know.
   */
  lastPublicEventId(): Promise<string>;
  /** Removes updates beyond the count and age limits; returns how many were removed. */
  prune(now?: number): Promise<number>;
  /** Releases the store; pending appends have completed. */
  close(): Promise<void>;
}
