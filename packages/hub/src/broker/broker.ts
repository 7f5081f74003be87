/**
 * The broker: appends updates to the transport, dispatches what its tail delivers to this node's
 * subscribers and polls in the log's order, replays history, and announces subscriptions. Not
 * responsible for HTTP (routes/), writing streams (subscriber.ts) or storage (transports/).
 */
import type { Logger } from "pino";
import { flushWrites } from "ssekit/server";
import { documentsOf, type SubscriptionDocument, subscriptionEvent } from "../domain/subscription.js";
import type { StoredUpdate, Update } from "../domain/update.js";
import type { HubMetrics } from "../metrics.js";
import {
  type AfterResult,
  PAGE_BYTES,
  type Transport,
  type TransportHealth,
} from "../transports/transport.js";
import { Fanout } from "./fanout.js";
import { replayHistory } from "./replay.js";
import { Slicer } from "./slices.js";
import { Dispatch, dispatchOf, type Subscriber } from "./subscriber.js";

/** Longest a broker waits for its tail to catch up with the log's newest entry before answering anyway. */
const CATCH_UP_MS = 1_000;
/** Subscription-event ids remembered as positions in history, for a Last-Event-ID naming one. */
const EPHEMERAL_POSITIONS = 10_000;
const PRUNE_INTERVAL_MS = 10_000;

export interface BrokerOptions {
  readonly transport: Transport;
  readonly metrics: HubMetrics;
  readonly log: Logger;
  /** Publish subscription events (and keep the hub-wide list of subscriptions). */
  readonly subscriptionEvents: boolean;
}

export class Broker {
  /** This node's live subscribers. */
  readonly subscribers = new Fanout();
  /** Hands out time slices to replays and poll scans, so that none holds the event loop. */
  readonly slicer = new Slicer();
  readonly transport: Transport;
  readonly #metrics: HubMetrics;
  readonly #log: Logger;
  readonly #subscriptionEvents: boolean;
  readonly #ready: Promise<void>;
  /** True once `#ready` has resolved: appends then need not wait for it. */
  #following = false;
  /** The id of the newest update in history, and of the newest public one, as the tail saw them. */
  #newestId = "earliest";
  #newestPublicId = "earliest";
  #tailSeen = false;
  /** The `seq` of the last update the tail delivered, and who waits for it to reach a `seq`. */
  #tailSeq = 0;
  #catchUp: { readonly seq: number; readonly resolve: () => void }[] = [];
  #health: TransportHealth = { ok: true };
  /**
   * Subscription events are not kept in history (anonymous clients would evict published updates
   * by connecting): each one's id maps to the newest update in history when it was sent, so a
   * client whose last event was one resumes right after that position, on any node.
   */
  readonly #ephemeralPositions = new Map<string, string>();
  readonly #pollListeners = new Set<(update: StoredUpdate) => void>();
  /** Subscribers whose subscription events are being sent, with the last one queued. */
  readonly #announcing = new Map<Subscriber, Promise<void>>();
  readonly #pruneTimer: NodeJS.Timeout;
  #closed = false;

  constructor(options: BrokerOptions) {
    this.transport = options.transport;
    this.#metrics = options.metrics;
    this.#log = options.log;
    this.#subscriptionEvents = options.subscriptionEvents;
    this.#metrics.transportUp.set(1);
    this.#ready = this.#start();
    // Awaited by every user; a failure here is theirs to report.
    this.#ready.catch(() => undefined);
    this.#pruneTimer = setInterval(() => void this.#prune(), PRUNE_INTERVAL_MS);
    this.#pruneTimer.unref();
  }

  async #start(): Promise<void> {
    const transport = this.transport;
    const startSeq = await transport.follow({
      updates: (batch) => this.#dispatch(batch),
      event: (update, position) => this.#dispatchEvent(update, position),
      health: (health) => this.#onHealth(health),
      subscriptions: () => this.#localSubscriptions(),
    });
    this.#tailSeq = Math.max(this.#tailSeq, startSeq);
    const [newest, newestPublic] = await Promise.all([
      transport.lastEventId(),
      transport.lastPublicEventId(),
    ]);
    // The tail may already have brought newer ones.
    if (!this.#tailSeen) {
      this.#newestId = newest;
      this.#newestPublicId = newestPublic;
    }
    void this.#prune();
    this.#following = true;
  }

  /** Resolves once the broker follows the transport; rejects when it cannot (Redis unreachable at start). */
  ready(): Promise<void> {
    return this.#ready;
  }

  async newestId(): Promise<string> {
    await this.#ready;
    await this.#caughtUp();
    return this.#newestId;
  }

  /** The newest public id: what clients are told (a private update's id is not everyone's to know). */
  async newestPublicId(): Promise<string> {
    await this.#ready;
    await this.#caughtUp();
    return this.#newestPublicId;
  }

  /**
   * Resolves once the tail has delivered every update in the log now (at once on a transport whose
   * tail is never behind). When the transport cannot say, or the tail takes longer than
   * CATCH_UP_MS, it answers with what it has: a subscription opens during an outage too.
   */
  async #caughtUp(): Promise<void> {
    if (this.transport.newestSeq === undefined) return;
    let seq: number;
    try {
      seq = await this.transport.newestSeq();
    } catch {
      return;
    }
    if (seq <= this.#tailSeq) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#catchUp.push({ seq, resolve });
      timer = setTimeout(resolve, CATCH_UP_MS);
    });
    clearTimeout(timer);
  }

  health(): TransportHealth {
    const health = this.transport.health();
    return health.ok ? this.#health : health;
  }

  #onHealth(health: TransportHealth): void {
    if (health.ok && !this.#health.ok) {
      this.#metrics.transportReconnects.inc();
      this.#log.info("transport reachable again; following resumed");
    } else if (!health.ok && this.#health.ok) {
      this.#log.warn({ reason: health.reason }, "transport unreachable");
    }
    this.#health = health;
    this.#metrics.transportUp.set(health.ok ? 1 : 0);
  }

  async #prune(): Promise<void> {
    if (this.#closed) return;
    try {
      const removed = await this.transport.prune();
      if (removed > 0) this.#log.debug({ removed }, "pruned history");
    } catch (error) {
      this.#log.error({ err: error }, "pruning history failed");
    }
  }

  /** Appends `update` to the transport; resolves once it is durable. Dispatch follows from the tail. */
  async append(update: Update): Promise<StoredUpdate> {
    if (!this.#following) await this.#ready;
    const started = performance.now();
    const stored = await this.transport.append(update);
    this.#metrics.transportAppend.observe((performance.now() - started) / 1000);
    this.#metrics.published.inc();
    return stored;
  }

  /** Updates from the tail, in log order: to every local subscriber and poll that may receive them. */
  #dispatch(batch: readonly StoredUpdate[]): void {
    this.#tailSeen = true;
    let delivered = 0;
    for (const update of batch) {
      this.#newestId = update.id;
      if (!update.private) this.#newestPublicId = update.id;
      delivered += this.subscribers.dispatch(dispatchOf(update));
      for (const listener of this.#pollListeners) listener(update);
    }
    // A batch comes from a store's end-of-turn commit or a read of the tail: written now, in one
    // write per subscriber, not one turn of the loop later.
    flushWrites();
    if (delivered > 0) this.#metrics.delivered.inc(delivered);
    const last = batch.at(-1);
    if (last === undefined) return;
    this.#metrics.tailLag.set(Math.max(0, Date.now() - last.time));
    this.#tailSeq = last.seq;
    if (this.#catchUp.length > 0) {
      const waiting = this.#catchUp;
      this.#catchUp = [];
      for (const waiter of waiting) {
        if (waiter.seq <= last.seq) waiter.resolve();
        else this.#catchUp.push(waiter);
      }
    }
  }

  #dispatchEvent(update: StoredUpdate, position: string): void {
    this.#ephemeralPositions.set(update.id, position);
    if (this.#ephemeralPositions.size > EPHEMERAL_POSITIONS) {
      const oldest = this.#ephemeralPositions.keys().next();
      if (oldest.done !== true) this.#ephemeralPositions.delete(oldest.value);
    }
    const delivered = this.subscribers.dispatch(new Dispatch(update, true));
    if (delivered > 0) this.#metrics.delivered.inc(delivered);
  }

  /** `transport.after`, also for the id of a subscription event (which history does not keep). */
  async after(lastEventId: string, limit: number, maxBytes = PAGE_BYTES): Promise<AfterResult> {
    await this.#ready;
    const position = this.#ephemeralPositions.get(lastEventId);
    if (position === undefined) return this.transport.after(lastEventId, limit, maxBytes);
    const result = await this.transport.after(position, limit, maxBytes);
    // The update it followed may have left history since: then everything kept is after it.
    return { kind: "found", updates: result.updates };
  }

  afterSeq(seq: number, limit: number, maxBytes = PAGE_BYTES): Promise<readonly StoredUpdate[]> {
    return this.transport.afterSeq(seq, limit, maxBytes);
  }

  /** Writes `first` and the rest of history after it to `subscriber` (see replay.ts). */
  replay(subscriber: Subscriber, first: readonly StoredUpdate[]): Promise<void> {
    return replayHistory(this.transport, this.slicer, subscriber, first);
  }

  /** Calls `listener` with every update dispatched from now until the returned function is called. */
  listen(listener: (update: StoredUpdate) => void): () => void {
    this.#pollListeners.add(listener);
    return () => this.#pollListeners.delete(listener);
  }

  /** Adds a live subscriber (its updates are held until `goLive`) and announces it. */
  add(subscriber: Subscriber): void {
    this.subscribers.add(subscriber);
    this.#metrics.connections.inc();
    this.#metrics.subscriptions.inc(subscriber.selectors.length);
  }

  /** Removes a subscriber; false when it was not here. */
  remove(subscriber: Subscriber): boolean {
    if (!this.subscribers.delete(subscriber)) return false;
    this.#metrics.connections.dec();
    this.#metrics.subscriptions.dec(subscriber.selectors.length);
    return true;
  }

  /**
   * Publishes the subscription events of `subscriber` (one per selector) through the transport, to
   * every node. They are private and live only: not kept in history, where subscribers coming and
   * going (anonymous ones too) would evict published updates; the subscriptions API gives the
   * current state.
   */
  announce(subscriber: Subscriber, active: boolean): Promise<void> {
    if (!this.#subscriptionEvents || this.#closed) return Promise.resolve();
    // One subscriber's events go out in order: a client that leaves while its "active" event is
    // still on its way must not have its "inactive" one overtake it (and stay listed elsewhere).
    const previous = this.#announcing.get(subscriber) ?? Promise.resolve();
    const next = previous.then(() => this.#announce(subscriber, active));
    this.#announcing.set(subscriber, next);
    void next.then(() => {
      if (this.#announcing.get(subscriber) === next) this.#announcing.delete(subscriber);
    });
    return next;
  }

  async #announce(subscriber: Subscriber, active: boolean): Promise<void> {
    // Subscription events are private: on one process, only a subscriber whose token grants
    // topics can get one (a shared transport also records them for the other nodes).
    if (!this.transport.shared && !this.subscribers.anyGranted) return;
    try {
      const position = await this.newestId();
      const slice = this.slicer.slice();
      for (const document of documentsOf(subscriber, active)) {
        if (slice.spent(16)) {
          await slice.next();
        }
        const update = subscriptionEvent(document);
        await this.transport.announce({ update, position, document });
      }
    } catch (error) {
      this.#log.warn({ err: error }, "publishing a subscription event failed");
    }
  }

  #localSubscriptions(): SubscriptionDocument[] {
    const documents: SubscriptionDocument[] = [];
    if (!this.#subscriptionEvents) return documents;
    for (const subscriber of this.subscribers) documents.push(...documentsOf(subscriber, true));
    return documents;
  }

  /**
   * The active subscriptions of the whole hub, read lazily: this node's, then those the transport
   * knows elsewhere (which may be hundreds of thousands: never spread into one call).
   */
  async subscriptions(): Promise<Iterable<SubscriptionDocument>> {
    const elsewhere = await this.transport.subscriptionsElsewhere();
    return this.#allSubscriptions(elsewhere);
  }

  *#allSubscriptions(elsewhere: readonly SubscriptionDocument[]): Generator<SubscriptionDocument> {
    if (this.#subscriptionEvents) {
      for (const subscriber of this.subscribers) yield* documentsOf(subscriber, true);
    }
    yield* elsewhere;
  }

  /** Stops pruning and subscription events, and closes the transport. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    await this.transport.close();
  }
}
