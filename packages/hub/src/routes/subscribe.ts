/**
 * `GET /.well-known/mercure?topic=...`: checks, authenticates, adds the subscriber (live updates
 * held), reconciles the last event id, opens the stream, replays and goes live. `HEAD` gets the
 * same checks and headers. Not responsible for delivery (broker/) or the stream itself (ssekit/server).
 */

import type { ServerHttp2Stream } from "node:http2";
import { encodeHeaderId } from "ssekit/protocol";
import { createSession, createStreamSession, type Session, type SessionOptions } from "ssekit/server";
import { patternCount } from "../broker/fanout.js";
import { REPLAY_PAGE } from "../broker/replay.js";
import { type OpenStream, Subscriber } from "../broker/subscriber.js";
import type { Selector } from "../domain/topics.js";
import type { StoredUpdate } from "../domain/update.js";
import { HttpError, type HubRequest, type HubResponse, type RequestHead } from "../http/http.js";
import type { RouteContext } from "./context.js";
import { requestedLastEventId, requestedSelectors } from "./selectors.js";

/** Where a subscription's stream opens: a response (`responseAnswer`) or an HTTP/2 stream (`streamAnswer`). */
export interface SubscribeAnswer {
  /** The client went away, or the answer was already given. */
  gone(): boolean;
  readonly open: OpenStream;
  /** Ends the answer without a stream. */
  end(): void;
}

/** The answer on a node:http or node:http2 compatibility response. */
export function responseAnswer(req: HubRequest, res: HubResponse): SubscribeAnswer {
  return {
    gone: () => res.destroyed || res.writableEnded,
    open: (options: SessionOptions): Session => createSession(req, res, options),
    end: () => res.end(),
  };
}

/** The answer on an HTTP/2 stream served without the compatibility API (no request or response objects). */
export function streamAnswer(stream: ServerHttp2Stream, req: RequestHead): SubscribeAnswer {
  return {
    // Not `writableEnded`: node:http2 ends a HEAD request's writable side before it is answered.
    gone: () => stream.destroyed || stream.closed || stream.headersSent,
    open: (options: SessionOptions): Session => createStreamSession(stream, req.headers, options),
    end: () => stream.end(),
  };
}

export async function subscribeRoute(
  context: RouteContext,
  req: RequestHead,
  answer: SubscribeAnswer,
  url: URL,
  common: Readonly<Record<string, string>>,
): Promise<void> {
  const { broker } = context;
  const selectors = requestedSelectors(url.searchParams);
  checkPatterns(context, selectors);
  const rights = await context.authenticate.subscriber(req, url.searchParams, { anonymous: true });
  const requested = requestedLastEventId(req, "header");
  if (answer.gone()) return;
  // Checked again now that the token is verified: other subscriptions may have come meanwhile.
  if (req.method !== "HEAD") checkPatterns(context, selectors);
  // HEAD is checked as a subscription would be and answered with its headers; no subscriber made.
  const subscriber =
    req.method === "HEAD" ? undefined : new Subscriber(selectors, rights, context.subscriberHost);
  // Live first (held in the subscriber's buffer), then history: no gap, and seq dedupes.
  if (subscriber !== undefined) broker.add(subscriber);
  try {
    const current = await broker.newestPublicId();
    let first: readonly StoredUpdate[] = [];
    let reconciled = current;
    if (requested !== undefined) {
      const result = await broker.after(requested, subscriber === undefined ? 1 : REPLAY_PAGE);
      first = result.updates;
      reconciled = result.kind === "found" ? requested : "earliest";
    }
    // Besides the event-stream headers (ssekit/server's): 0.x's `Last-Event-ID`, the hub's newest
    // id at subscription time, and 1.0's, the id replay starts after; as UTF-8 bytes, as clients
    // send them (a published id may be any text).
    const headers: Record<string, string> = {
      ...common,
      "last-event-id": encodeHeaderId(current),
      "mercure-last-event-id": encodeHeaderId(reconciled),
    };
    if (subscriber === undefined) {
      answer.open({ headers, heartbeat: 0 });
      return;
    }
    if (!subscriber.open(answer.open, headers)) {
      answer.end();
      return;
    }
    context.log.debug({ subscriber: subscriber.id, topics: selectors.map((s) => s.text) }, "subscribed");
    void broker.announce(subscriber, true);
    await broker.replay(subscriber, first);
    subscriber.goLive();
  } catch (error) {
    // Its stream cannot open or go on: the subscriber leaves the broker, the error is answered.
    subscriber?.close("subscription failed");
    throw error;
  }
}

/**
 * 400 when `selectors` has more patterns than one subscription may carry, 429 when the hub's
 * subscriptions would use more distinct patterns than it allows: each pattern runs on every
 * public update, so their number is what a stream of updates costs.
 */
function checkPatterns(context: RouteContext, selectors: readonly Selector[]): void {
  const patterns = patternCount(selectors);
  if (patterns === 0) return;
  const { maxPatternSelectors, maxDistinctPatterns } = context.config;
  const subscribers = context.broker.subscribers;
  if (patterns > maxPatternSelectors)
    throw new HttpError(
      400,
      `this subscription has ${patterns} pattern selectors (URI templates, URL Patterns, *); this hub accepts at most ${maxPatternSelectors} per subscription (maxPatternSelectors)`,
    );
  if (subscribers.distinctPatterns + subscribers.newPatterns(selectors) > maxDistinctPatterns)
    throw new HttpError(
      429,
      `this hub's subscriptions already use ${subscribers.distinctPatterns} distinct pattern selectors, its limit (maxDistinctPatterns is ${maxDistinctPatterns}); retry later or subscribe with exact topics`,
      { "retry-after": "10" },
    );
}
