/**
 * The local transport: one hub process over an embedded store (memory.ts or sqlite.ts). The log
 * is the store; following it is a call to the broker with each batch the store has appended,
 * before those appends resolve (in call order, so that is the log's order), and subscription
 * events go straight back to the broker. No other node exists, so `shared` is false and there are no subscriptions elsewhere.
 * Not responsible for storage (the store) or fan-out (the broker).
 */
import type { SubscriptionDocument } from "../domain/subscription.js";
import type { StoredUpdate, Update } from "../domain/update.js";
import type {
  AfterResult,
  Store,
  SubscriptionEvent,
  Transport,
  TransportHealth,
  TransportListener,
} from "./transport.js";

const HEALTHY: TransportHealth = { ok: true };

export class LocalTransport implements Transport {
  readonly shared = false;
  readonly #store: Store;
  #listener: TransportListener | undefined;

  constructor(store: Store) {
    this.#store = store;
  }

  async follow(listener: TransportListener): Promise<number> {
    if (this.#listener !== undefined) throw new Error("this transport is already followed");
    this.#listener = listener;
    // Before the appends' callers hear of them: live delivery in the store's order.
    this.#store.onAppended((batch) => listener.updates(batch));
    return 0;
  }

  append(update: Update): Promise<StoredUpdate> {
    return this.#store.append(update);
  }

  async announce(event: SubscriptionEvent): Promise<void> {
    this.#listener?.event(event.update, event.position);
  }

  async subscriptionsElsewhere(): Promise<readonly SubscriptionDocument[]> {
    return [];
  }

  health(): TransportHealth {
    return HEALTHY;
  }

  after(lastEventId: string, limit: number, maxBytes?: number): Promise<AfterResult> {
    return this.#store.after(lastEventId, limit, maxBytes);
  }

  afterSeq(seq: number, limit: number, maxBytes?: number): Promise<readonly StoredUpdate[]> {
    return this.#store.afterSeq(seq, limit, maxBytes);
  }

  lastEventId(): Promise<string> {
    return this.#store.lastEventId();
  }

  lastPublicEventId(): Promise<string> {
    return this.#store.lastPublicEventId();
  }

  prune(now?: number): Promise<number> {
    return this.#store.prune(now);
  }

  async close(): Promise<void> {
    this.#listener = undefined;
    this.#store.onAppended(undefined);
    await this.#store.close();
  }
}
