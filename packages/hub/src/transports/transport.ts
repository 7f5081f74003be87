/**
 * The Transport (Mercure's name): what the broker needs of the log of updates. Append (resolves
 * once durable), follow in the log's one order, read history after an id, carry live-only
 * subscription events, and tell the subscriptions of other nodes. `Store` is the history half of
 * the embedded transports. Not responsible for fan-out, authorization or HTTP.
 */
import type { SubscriptionDocument } from "../domain/subscription.js";
import type { StoredUpdate, Update } from "../domain/update.js";

export {
  DuplicateIdError,
  type StoredUpdate,
  sameUpdate,
  storedUpdate,
  type Update,
} from "../domain/update.js";

/** The answer to `after()`. `unknown-id`: the id is not (or no longer) in history; `updates` is then the oldest kept. */
export type AfterResult =
  | { readonly kind: "found"; readonly updates: readonly StoredUpdate[] }
  | { readonly kind: "unknown-id"; readonly updates: readonly StoredUpdate[] };

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

/** A bounded, ordered history of updates, as kept by one process (memory.ts, sqlite.ts). */
export interface Store {
  /**
   * Appends an update; resolves only once it is durable (as durable as the store is). Appends
   * resolve in call order. Rejects with `DuplicateIdError` when the id is still in history.
   */
  append(update: Update): Promise<StoredUpdate>;
  /**
   * Hands each batch of appends, once durable, to `listener` in log order before any of them
   * resolves: one call per batch (the appends of one turn of the event loop) rather than one per
   * update. One listener at a time; `undefined` removes it.
   */
  onAppended(listener: ((batch: readonly StoredUpdate[]) => void) | undefined): void;
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

/** What a transport hands to the broker that follows it. */
export interface TransportListener {
  /** New updates of the log, in log order, each once (on every node, the same order). */
  updates(batch: readonly StoredUpdate[]): void;
  /**
   * A live-only event (a subscription event): not in history. `position` is the id of the newest
   * update in history when it was sent, so that a client resuming from its id resumes there.
   */
  event(update: StoredUpdate, position: string): void;
  /** The active subscriptions of this node, for a transport that has to register them again. */
  subscriptions(): readonly SubscriptionDocument[];
  /** The transport became unreachable (`ok: false`, with why) or reachable again. */
  health(health: TransportHealth): void;
}

/** A subscription event to send to every node: the update, its position and the change it reports. */
export interface SubscriptionEvent {
  readonly update: StoredUpdate;
  readonly position: string;
  readonly document: SubscriptionDocument;
}

/** Whether the transport can append and follow now; `reason` says why not, for `/healthz`. */
export type TransportHealth = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Thrown by `append` (and reads) when the transport cannot take the request now, without having
 * stored anything (`stored: false`) or without knowing whether it did (`stored: "unknown"`); the
 * hub answers 503 with Retry-After. A retry with the same event id is safe either way: a
 * duplicate of a stored update is acknowledged again, not stored twice.
 */
export class TransportUnavailableError extends Error {
  readonly code = "TRANSPORT_UNAVAILABLE";
  constructor(
    message: string,
    readonly stored: false | "unknown",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TransportUnavailableError";
  }
}

export interface Transport extends Omit<Store, "close" | "onAppended"> {
  /**
   * True when several hub processes may share this transport (their updates, history and
   * subscriptions are one hub's): `ssekit hub --workers N` requires it.
   */
  readonly shared: boolean;
  /**
   * Starts following the log from its end now: from then on `listener.updates` gets every update
   * appended by any node, in log order, each once, also across outages of the transport. The
   * broker dispatches live updates only from here. Resolves once following, with the `seq` of the
   * update the tail starts after (0 when the log is empty or the transport has no `newestSeq`).
   * Called once.
   */
  follow(listener: TransportListener): Promise<number>;
  /**
   * Sends a subscription event to `listener.event` on every node (this one included), outside
   * history, and records the subscription it reports as active or gone for `subscriptionsElsewhere`.
   */
  announce(event: SubscriptionEvent): Promise<void>;
  /** The active subscriptions held by the other nodes of the hub (none for a one-process transport). */
  subscriptionsElsewhere(): Promise<readonly SubscriptionDocument[]>;
  /**
   * The `seq` of the newest update in the log now, for a transport whose tail can be behind its
   * appends (another node's publish acknowledged but not yet followed here): the broker waits for
   * its tail to reach it before telling a client the newest id, so that a client never learns of
   * an update from one node and then misses it on another. Absent when the tail is never behind.
   */
  newestSeq?(): Promise<number>;
  /** Whether appending and following work now. */
  health(): TransportHealth;
  /** Stops following and releases the transport; appends already made have been answered. */
  close(): Promise<void>;
}
