/**
 * The Redis transport: many hub processes and machines as one hub, on the shared ordered log of
 * @ssekit/redis. Keys, under a prefix (default `ssekit-hub`):
 * - `<prefix>:history`: one stream for the hub's whole history (Mercure's last event id is global
 *   across topics), appended through the log's script that refuses a taken event id atomically
 *   (index `<prefix>:history:ids`) and trims by count and age; every node tails it with XREAD BLOCK
 *   from the last entry it delivered, and replays read it with XRANGE. One entry per update, in the
 *   form redis-entry.ts describes.
 * - `<prefix>:events`: the subscription events, a stream of its own trimmed separately (to 10,000
 *   entries and 60 s), so that subscribers coming and going never evict published updates.
 * - the node registry (redis-registry.ts): which nodes are alive and their subscriptions, for the
 *   hub-wide subscriptions API and the "inactive" events of a node that died.
 * An update's `seq` is its stream id as one number (redis-ids.ts), so it orders as the log does.
 * Not responsible for fan-out (the broker) or for how the log is kept in Redis (@ssekit/redis).
 */

import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import {
  createRedisLog,
  DuplicateIdError as LogDuplicateIdError,
  type RedisConnection,
  type RedisLog,
  RedisLogError,
  START,
} from "@ssekit/redis";
import { documentsOf, type SubscriptionDocument, subscriptionEvent } from "../domain/subscription.js";
import { DuplicateIdError, type StoredUpdate, storedUpdate, type Update } from "../domain/update.js";
import { entryFields, ID_FIELD, storedOfEntries, storedOfEntry } from "./redis-entry.js";
import { entryIdOfSeq, seqOfEntryId, timeOfSeq } from "./redis-ids.js";
import { RedisRegistry } from "./redis-registry.js";
import {
  type AfterResult,
  type HistoryLimits,
  type SubscriptionEvent,
  type Transport,
  type TransportHealth,
  type TransportListener,
  TransportUnavailableError,
  withinBytes,
} from "./transport.js";

export interface RedisTransportOptions extends HistoryLimits {
  /** How to reach Redis: a URL (`redis://127.0.0.1:6379/0`) or ioredis options. */
  readonly redis: RedisConnection;
  /** Prefix of every key of this hub. Default: `"ssekit-hub"`. */
  readonly key?: string;
  /**
   * Milliseconds after its last heartbeat a node counts as dead: its subscriptions are then removed
   * (with their "inactive" events) by another node. Heartbeats go every third of it. Default: 30000.
   */
  readonly nodeTimeoutMs?: number;
  /** How long an append waits for Redis, in ms; past it the publish gets a 503. Default: 5000. */
  readonly timeoutMs?: number;
}

const EVENTS_MAX_LENGTH = 10_000;
/**
 * Subscription events kept while Redis is unreachable, to be sent when it is back (the oldest
 * are dropped beyond it: after that many comings and goings the subscriptions API is the truth).
 */
export const UNSENT_EVENTS_MAX = 10_000;
const EVENTS_MAX_AGE_MS = 60_000;
/** Entries read at once when looking back for the newest public update. */
const LOOK_BACK = 1000;

/** Entries read from Redis at a time when a page is bounded in bytes. */
const READ_CHUNK = 64;

/** A log failure as the broker's error: 503 for the publisher, nothing acknowledged that was not stored. */
function unavailable(error: unknown): unknown {
  if (!(error instanceof RedisLogError)) return error;
  if (error.code === "UNAVAILABLE" || error.code === "CLOSED")
    return new TransportUnavailableError(`Redis is unavailable (${error.message})`, false, { cause: error });
  if (error.code === "UNCERTAIN")
    return new TransportUnavailableError(`Redis did not answer (${error.message})`, "unknown", {
      cause: error,
    });
  return error;
}

export class RedisTransport implements Transport {
  readonly shared = true;
  /** This node's id among the hub's nodes. */
  readonly nodeId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #history: RedisLog;
  readonly #events: RedisLog;
  readonly #registry: RedisRegistry;
  #listener: TransportListener | undefined;
  /** The tails ("history", "events") failing now, with why. */
  readonly #failing = new Map<string, string>();
  #connectionError: string | undefined;
  /** Subscription events that could not be sent, oldest first: sent, in order, when Redis is back. */
  #unsent: { readonly update: StoredUpdate; readonly position: string }[] = [];
  #resending = false;
  /** The id of the newest history entry the tail delivered: the position of this node's subscription events. */
  #newestId = "earliest";
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RedisTransportOptions) {
    const prefix = options.key ?? "ssekit-hub";
    const onConnectionError = (error: Error) => {
      this.#connectionError = error.message;
    };
    this.#history = createRedisLog({
      redis: options.redis,
      key: `${prefix}:history`,
      maxLength: options.maxEvents,
      maxAgeMs: options.maxAgeMs,
      idField: ID_FIELD,
      timeoutMs: options.timeoutMs,
      onConnectionError,
    });
    this.#events = createRedisLog({
      redis: options.redis,
      key: `${prefix}:events`,
      maxLength: EVENTS_MAX_LENGTH,
      maxAgeMs: EVENTS_MAX_AGE_MS,
      timeoutMs: options.timeoutMs,
      onConnectionError,
    });
    this.#registry = new RedisRegistry({
      redis: options.redis,
      prefix,
      nodeId: this.nodeId,
      nodeTimeoutMs: options.nodeTimeoutMs ?? 30_000,
      timeoutMs: options.timeoutMs,
      mine: () => this.#listener?.subscriptions() ?? [],
      sendInactive: (document) => this.#sendInactive(document),
      onConnectionError,
    });
  }

  /** How many subscription events wait for Redis to be reachable again to be sent. */
  get unsentEvents(): number {
    return this.#unsent.length;
  }

  async follow(listener: TransportListener): Promise<number> {
    if (this.#listener !== undefined) throw new Error("this transport is already followed");
    this.#listener = listener;
    // Each tail reports on its own: the transport is healthy when neither is failing.
    const tailOptions = (name: string) => ({
      onError: (error: Error) => {
        if (this.#closed) return;
        const first = this.#failing.size === 0;
        this.#failing.set(name, error.message);
        if (first) listener.health({ ok: false, reason: `following Redis failed: ${error.message}` });
      },
      onResume: () => {
        this.#failing.delete(name);
        if (this.#failing.size > 0) return;
        listener.health({ ok: true });
        // Subscriptions that came or went during the outage were not recorded: record them all,
        // and send the subscription events that could not be sent meanwhile.
        void this.#registry.register().catch(() => undefined);
        void this.#resend();
      },
    });
    const history = this.#history.tail(
      "$",
      (entries) => {
        const updates = storedOfEntries(entries);
        const last = updates.at(-1);
        if (last !== undefined) this.#newestId = last.id;
        listener.updates(updates);
      },
      tailOptions("history"),
    );
    const events = this.#events.tail(
      "$",
      (entries) => {
        for (const entry of entries) {
          const { id, topic, data, position } = entry.fields;
          if (id === undefined || topic === undefined || data === undefined || position === undefined)
            continue;
          const update = storedUpdate({ id, topics: [topic], data, private: true }, 0, Date.now());
          listener.event(update, position);
        }
      },
      tailOptions("events"),
    );
    await Promise.all([history.started(), events.started()]);
    const newest = await this.lastEventId();
    // The tail may have delivered newer ones meanwhile.
    if (this.#newestId === "earliest") this.#newestId = newest;
    await this.#registry.start();
    const position = history.position;
    return position === undefined ? 0 : seqOfEntryId(position);
  }

  async append(update: Update): Promise<StoredUpdate> {
    let entryId: string;
    try {
      entryId = await this.#history.append(entryFields(update));
    } catch (error) {
      if (error instanceof LogDuplicateIdError) {
        const existing = await this.#history.get(error.entryId).catch(() => undefined);
        throw new DuplicateIdError(update.id, existing === undefined ? undefined : storedOfEntry(existing));
      }
      throw unavailable(error);
    }
    const seq = seqOfEntryId(entryId);
    return storedUpdate(update, seq, timeOfSeq(seq));
  }

  async after(lastEventId: string, limit: number, maxBytes = Number.POSITIVE_INFINITY): Promise<AfterResult> {
    // With a byte bound, the first read is small and the page grows by `#fill` only while it fits.
    const first = Number.isFinite(maxBytes) ? Math.min(limit, READ_CHUNK) : limit;
    try {
      const read = await this.#history.read(lastEventId === "earliest" ? START : lastEventId, first);
      if (read.kind === "found")
        return {
          kind: "found",
          updates: await this.#fill(storedOfEntries(read.entries), first, limit, maxBytes),
        };
      if (read.kind === "trimmed")
        return {
          kind: "unknown-id",
          updates: await this.#fill(storedOfEntries(read.entries), first, limit, maxBytes),
        };
      const oldest = await this.#history.read(START, first);
      return {
        kind: "unknown-id",
        updates:
          oldest.kind === "unknown"
            ? []
            : await this.#fill(storedOfEntries(oldest.entries), first, limit, maxBytes),
      };
    } catch (error) {
      throw unavailable(error);
    }
  }

  async afterSeq(
    seq: number,
    limit: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<readonly StoredUpdate[]> {
    const first = Number.isFinite(maxBytes) ? Math.min(limit, READ_CHUNK) : limit;
    try {
      const read = await this.#history.read(entryIdOfSeq(seq), first);
      return read.kind === "unknown"
        ? []
        : await this.#fill(storedOfEntries(read.entries), first, limit, maxBytes);
    } catch (error) {
      throw unavailable(error);
    }
  }

  /**
   * `page` (read `asked` at a time), grown chunk by chunk up to `limit` updates and `maxBytes` of
   * data, so that a page of large updates is never fetched from Redis whole.
   */
  async #fill(page: StoredUpdate[], asked: number, limit: number, maxBytes: number): Promise<StoredUpdate[]> {
    let bytes = 0;
    for (const update of page) bytes += update.data.length;
    let got = page.length;
    while (got === asked && page.length < limit && bytes < maxBytes) {
      const last = page.at(-1);
      if (last === undefined) break;
      asked = Math.min(READ_CHUNK, limit - page.length);
      const read = await this.#history.read(entryIdOfSeq(last.seq), asked);
      if (read.kind !== "found") break;
      const more = storedOfEntries(read.entries);
      for (const update of more) bytes += update.data.length;
      page.push(...more);
      got = more.length;
    }
    return withinBytes(page, maxBytes) as StoredUpdate[];
  }

  async newestSeq(): Promise<number> {
    try {
      const id = await this.#history.lastId();
      return seqOfEntryId(id);
    } catch (error) {
      throw unavailable(error);
    }
  }

  async lastEventId(): Promise<string> {
    try {
      const [newest] = await this.#history.newest(1);
      return newest?.fields.id ?? "earliest";
    } catch (error) {
      throw unavailable(error);
    }
  }

  async lastPublicEventId(): Promise<string> {
    try {
      let before: string | undefined;
      for (;;) {
        const page = await this.#history.newest(LOOK_BACK, before);
        for (const entry of page) {
          const update = storedOfEntry(entry);
          if (update !== undefined && !update.private) return update.id;
        }
        const last = page.at(-1);
        if (page.length < LOOK_BACK || last === undefined) return "earliest";
        before = last.id;
      }
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** Redis trims on every append (by count and age): nothing to do in the background. */
  async prune(): Promise<number> {
    return 0;
  }

  /**
   * Records the subscription for the other nodes and sends its event. When Redis cannot take the
   * event, it is kept (up to UNSENT_EVENTS_MAX) and sent, after any kept before it, when Redis is
   * back, so that every node's view of the subscriptions ends up right; the rejection says so.
   * A failed record needs nothing kept: the registry writes the whole list again on recovery.
   */
  async announce(event: SubscriptionEvent): Promise<void> {
    let failure: unknown;
    try {
      await this.#registry.record(event.document);
    } catch (error) {
      failure = error;
    }
    const unsent = { update: event.update, position: event.position };
    if (failure === undefined && this.#unsent.length === 0) {
      try {
        await this.#sendEvent(unsent.update, unsent.position);
        return;
      } catch (error) {
        failure = error;
      }
    }
    this.#unsent.push(unsent);
    if (this.#unsent.length > UNSENT_EVENTS_MAX) this.#unsent.shift();
    if (failure === undefined) {
      // Earlier events wait to be sent: this one goes after them.
      void this.#resend();
      return;
    }
    throw new TransportUnavailableError(
      `Redis is unavailable (${failure instanceof Error ? failure.message : String(failure)}); the subscription event will be sent when it is back`,
      false,
      { cause: failure },
    );
  }

  /** Sends the kept subscription events, oldest first, until one fails (the rest wait for the next recovery). */
  async #resend(): Promise<void> {
    if (this.#resending || this.#closed) return;
    this.#resending = true;
    try {
      for (let next = this.#unsent[0]; next !== undefined; next = this.#unsent[0]) {
        await this.#sendEvent(next.update, next.position);
        if (this.#unsent[0] === next) this.#unsent.shift();
      }
    } catch {
      // Still unreachable: tried again when following resumes.
    } finally {
      this.#resending = false;
    }
  }

  async #sendEvent(update: StoredUpdate, position: string): Promise<void> {
    const topic = update.topics[0] ?? "";
    try {
      await this.#events.append({ id: update.id, topic, data: update.data, position });
    } catch (error) {
      throw unavailable(error);
    }
  }

  async subscriptionsElsewhere(): Promise<readonly SubscriptionDocument[]> {
    try {
      return await this.#registry.elsewhere();
    } catch (error) {
      throw new TransportUnavailableError(`Redis is unavailable (${String(error)})`, false, { cause: error });
    }
  }

  /** The "inactive" event of a subscription of a node that is gone, positioned at the newest update seen. */
  async #sendInactive(document: SubscriptionDocument): Promise<void> {
    const source = {
      id: document.subscriber,
      selectors: [{ text: document.topic }],
      rights: { payload: document.payload },
    };
    for (const inactive of documentsOf(source, false)) {
      const update = subscriptionEvent(inactive);
      await this.#sendEvent(update, this.#newestId);
    }
  }

  health(): TransportHealth {
    if (!this.#history.connected)
      return { ok: false, reason: `Redis is unreachable (${this.#connectionError ?? "not connected"})` };
    const failure = this.#failing.values().next();
    if (failure.done !== true) return { ok: false, reason: `following Redis failed: ${failure.value}` };
    return { ok: true };
  }

  /** Closes every connection of this node; calling it again returns the same promise. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    // A node that stops on purpose removes its subscriptions at once (with their events) instead
    // of leaving them to the others' dead-node timeout.
    await this.#registry.close();
    await Promise.all([this.#history.close(), this.#events.close()]);
  }
}
