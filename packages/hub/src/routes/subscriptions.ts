/**
 * The subscriptions API (`/.well-known/mercure/subscriptions[/{topic}[/{subscriber}]]`) and the
 * JSON-LD documents it and the subscription events share. Each subscription is one (selector,
 * subscriber) pair; its URL is its id and the topic of its events, so the usual private-update rule
 * decides who sees it. Not responsible for publishing the events (hub.ts).
 */

import type { Rights } from "./auth.js";
import { HttpError, MERCURE_PATH } from "./http.js";
import type { Subscriber } from "./subscriber.js";
import { anyMatch } from "./topics.js";

export const SUBSCRIPTIONS_PATH = `${MERCURE_PATH}/subscriptions`;
const CONTEXT = "https://mercure.rocks/";

export interface SubscriptionDocument {
  readonly id: string;
  readonly type: "Subscription";
  readonly topic: string;
  readonly subscriber: string;
  readonly active: boolean;
  readonly payload?: unknown;
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
export function documentsOf(subscriber: Subscriber, active: boolean): SubscriptionDocument[] {
  return subscriber.selectors.map((selector) => ({
    id: subscriptionId(selector.text, subscriber.id),
    type: "Subscription",
    topic: selector.text,
    subscriber: subscriber.id,
    active,
    ...(subscriber.rights.payload === undefined ? {} : { payload: subscriber.rights.payload }),
  }));
}

/**
 * Answers a GET on the subscriptions API with the documents `rights` may see. `path` starts with
 * SUBSCRIPTIONS_PATH. Throws HttpError 404 for an unknown subscription or path.
 */
export function subscriptionsResponse(
  path: string,
  subscribers: Iterable<Subscriber>,
  rights: Rights,
  lastEventId: string,
): Record<string, unknown> {
  const rest = path.slice(SUBSCRIPTIONS_PATH.length);
  let parts: string[];
  try {
    parts = rest === "" || rest === "/" ? [] : rest.slice(1).split("/").map(decodeURIComponent);
  } catch {
    throw new HttpError(
      400,
      `the subscriptions path ${JSON.stringify(path)} has a malformed percent escape or encodes bytes that are not UTF-8`,
    );
  }
  if (parts.length > 2)
    throw new HttpError(
      404,
      `no such resource: ${path}; the subscriptions API serves ${SUBSCRIPTIONS_PATH}[/{topic}[/{subscriber}]], each part percent-encoded (a topic's / as %2F)`,
    );
  const [topic, subscriberId] = parts;
  const visible: SubscriptionDocument[] = [];
  for (const subscriber of subscribers) {
    if (subscriberId !== undefined && subscriber.id !== subscriberId) continue;
    for (const doc of documentsOf(subscriber, true)) {
      if (topic !== undefined && doc.topic !== topic) continue;
      if (anyMatch([doc.id], rights.subscribe)) visible.push(doc);
    }
  }
  if (subscriberId !== undefined) {
    const doc = visible[0];
    if (doc === undefined) throw new HttpError(404, "no such subscription (or not visible to this token)");
    return { "@context": CONTEXT, ...doc, lastEventID: lastEventId };
  }
  return {
    "@context": CONTEXT,
    id: topic === undefined ? SUBSCRIPTIONS_PATH : `${SUBSCRIPTIONS_PATH}/${encodeSegment(topic)}`,
    type: "Subscriptions",
    lastEventID: lastEventId,
    subscriptions: visible,
  };
}

/** The data of a subscription event. */
export function subscriptionEventData(doc: SubscriptionDocument): string {
  return JSON.stringify({ "@context": CONTEXT, ...doc });
}
