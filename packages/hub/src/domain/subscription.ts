/**
 * Subscriptions as the Mercure protocol shows them: one JSON-LD document per (selector,
 * subscriber) pair, whose id is its URL under `/.well-known/mercure/subscriptions` and the topic
 * of its subscription events, so the usual private-update rule decides who sees it. Shared by the
 * subscriptions API (routes/subscriptions.ts), the broker's subscription events and the
 * transports that carry them between nodes. No I/O.
 */
import { randomUUID } from "node:crypto";
import { MERCURE_PATH, type StoredUpdate, storedUpdate } from "./update.js";

export const SUBSCRIPTIONS_PATH = `${MERCURE_PATH}/subscriptions`;
export const JSON_LD_CONTEXT = "https://mercure.rocks/";

export interface SubscriptionDocument {
  readonly id: string;
  readonly type: "Subscription";
  readonly topic: string;
  readonly subscriber: string;
  readonly active: boolean;
  readonly payload?: unknown;
}

/** What a document is made from: a subscriber's id, its selectors' text and its token's payload. */
export interface SubscriptionSource {
  readonly id: string;
  readonly selectors: readonly { readonly text: string }[];
  readonly rights: { readonly payload?: unknown };
}

/**
 * `text` as one path segment with every character but RFC 3986's unreserved ones percent-encoded,
 * as a URI template's `{/topic}` expands it: encodeURIComponent leaves `!'()*` as they are, and the
 * subscriptions claim Mercure recommends (`/.well-known/mercure/subscriptions{/topic}{/subscriber}`)
 * would then not match a selector such as `*`.
 */
export function encodeSegment(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function subscriptionId(topic: string, subscriber: string): string {
  return `${SUBSCRIPTIONS_PATH}/${encodeSegment(topic)}/${encodeSegment(subscriber)}`;
}

/** One document per selector of the subscriber. */
export function documentsOf(subscriber: SubscriptionSource, active: boolean): SubscriptionDocument[] {
  return subscriber.selectors.map((selector) => ({
    id: subscriptionId(selector.text, subscriber.id),
    type: "Subscription",
    topic: selector.text,
    subscriber: subscriber.id,
    active,
    ...(subscriber.rights.payload === undefined ? {} : { payload: subscriber.rights.payload }),
  }));
}

/** The data of a subscription event. */
export function subscriptionEventData(doc: SubscriptionDocument): string {
  return JSON.stringify({ "@context": JSON_LD_CONTEXT, ...doc });
}

/**
 * The subscription event reporting `doc`: a private update on the subscription's id, with a fresh
 * event id. It is live only (never in history), so it has no sequence number of its own.
 */
export function subscriptionEvent(doc: SubscriptionDocument): StoredUpdate {
  return storedUpdate(
    { id: `urn:uuid:${randomUUID()}`, topics: [doc.id], data: subscriptionEventData(doc), private: true },
    0,
    Date.now(),
  );
}
