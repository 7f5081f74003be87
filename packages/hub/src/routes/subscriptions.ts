/**
 * The subscriptions API (`/.well-known/mercure/subscriptions[/{topic}[/{subscriber}]]`): answers
 * with the active subscriptions of the whole hub (every node's, through the broker) that the
 * requester's token may see. Not responsible for keeping the list (broker.ts, the transport).
 */
import type { Rights } from "../domain/auth.js";
import {
  encodeSegment,
  JSON_LD_CONTEXT,
  SUBSCRIPTIONS_PATH,
  type SubscriptionDocument,
} from "../domain/subscription.js";
import { anyMatch } from "../domain/topics.js";
import { HttpError, type HubRequest, type HubResponse, sendJson } from "../http/http.js";
import type { RouteContext } from "./context.js";

/**
 * The document answering a GET of `path` (which starts with SUBSCRIPTIONS_PATH) with those of
 * `documents` that `rights` may see. Throws HttpError 404 for an unknown subscription or path.
 */
export function subscriptionsResponse(
  path: string,
  documents: Iterable<SubscriptionDocument>,
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
  for (const doc of documents) {
    if (subscriberId !== undefined && doc.subscriber !== subscriberId) continue;
    if (topic !== undefined && doc.topic !== topic) continue;
    if (anyMatch([doc.id], rights.subscribe)) visible.push(doc);
  }
  if (subscriberId !== undefined) {
    const doc = visible[0];
    if (doc === undefined) throw new HttpError(404, "no such subscription (or not visible to this token)");
    return { "@context": JSON_LD_CONTEXT, ...doc, lastEventID: lastEventId };
  }
  return {
    "@context": JSON_LD_CONTEXT,
    id: topic === undefined ? SUBSCRIPTIONS_PATH : `${SUBSCRIPTIONS_PATH}/${encodeSegment(topic)}`,
    type: "Subscriptions",
    lastEventID: lastEventId,
    subscriptions: visible,
  };
}

/** GET (and HEAD) on the subscriptions API: a subscriber JWT is required, anonymous or not. */
export async function subscriptionsRoute(
  context: RouteContext,
  req: HubRequest,
  res: HubResponse,
  url: URL,
): Promise<void> {
  if (!context.config.subscriptions)
    throw new HttpError(404, "the subscriptions API is disabled on this hub");
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD")
    throw new HttpError(405, `${method} is not allowed on the subscriptions API; use GET`, {
      allow: "GET, HEAD, OPTIONS",
    });
  const rights = await context.authenticate.subscriber(req, url.searchParams, { anonymous: false });
  const document = subscriptionsResponse(
    url.pathname,
    await context.broker.subscriptions(),
    rights,
    await context.broker.newestPublicId(),
  );
  sendJson(res, 200, document, "application/ld+json");
}
