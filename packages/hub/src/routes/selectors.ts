/**
 * Reads what a subscribe or poll request asks for from its query: the topic selectors of both
 * protocol generations (0.x `topic`, URI templates allowed; 1.0 `match`, exact, and
 * `match_urlpattern`, also spelled `matchExact` and `matchURLPattern`), bounded in number and
 * length, and the last event id. Not responsible for matching (topics.ts) or authorization (auth.ts).
 */

import { readLastEventId } from "ssekit/server";
import {
  compileSelector,
  EVENT_ID_CONTROL,
  type Selector,
  SelectorError,
  type SelectorKind,
  TOPIC_CONTROL,
} from "../domain/topics.js";
import { HttpError, type RequestHead } from "../http/http.js";

const PARAMS: readonly (readonly [string, SelectorKind])[] = [
  ["topic", "template"],
  ["match", "exact"],
  ["match_urlpattern", "urlpattern"],
  // The spellings of later Mercure drafts, for the same two matcher types.
  ["matchExact", "exact"],
  ["matchURLPattern", "urlpattern"],
];
const KNOWN = new Set(PARAMS.map(([param]) => param));

/** Selectors one request may carry: each costs a subscription and its events. */
export const MAX_SELECTORS = 200;
/** Characters one selector may have. */
export const MAX_SELECTOR_LENGTH = 2048;

/** 400 for a parameter in Mercure's reserved `match` namespace that names no matcher type. */
function checkMatchNames(query: URLSearchParams): void {
  for (const name of new Set(query.keys())) {
    if (name.toLowerCase().startsWith("match") && !KNOWN.has(name)) {
      throw new HttpError(
        400,
        `unknown selector parameter "${name}"; use topic, match, match_urlpattern, matchExact or matchURLPattern`,
      );
    }
  }
}

/** The request's selectors; 400 when there are none, too many, or one does not compile. */
export function requestedSelectors(query: URLSearchParams): readonly Selector[] {
  checkMatchNames(query);
  const selectors: Selector[] = [];
  for (const [param, kind] of PARAMS) {
    for (const text of query.getAll(param)) {
      if (text === "") throw new HttpError(400, `"${param}" must not be empty`);
      if (text.length > MAX_SELECTOR_LENGTH)
        throw new HttpError(
          400,
          `a "${param}" selector is ${text.length} characters long; this hub accepts at most ${MAX_SELECTOR_LENGTH}`,
        );
      if (TOPIC_CONTROL.test(text))
        throw new HttpError(
          400,
          `"${param}" must not contain control characters (got ${JSON.stringify(text)})`,
        );
      if (selectors.length === MAX_SELECTORS)
        throw new HttpError(
          400,
          `too many topic selectors; one request may carry at most ${MAX_SELECTORS} (use a URI template or URL Pattern to cover many topics)`,
        );
      try {
        selectors.push(compileSelector(text, kind));
      } catch (error) {
        if (error instanceof SelectorError) throw new HttpError(400, error.message);
        throw error;
      }
    }
  }
  if (selectors.length === 0) {
    throw new HttpError(
      400,
      'missing topic selector: add "topic" (or "match" / "match_urlpattern") to the query',
    );
  }
  return selectors;
}

/**
 * The last event id the client has seen (ssekit/server's reader: the `Last-Event-ID` header, or the
 * `lastEventID` or `last_event_id` query parameter), or undefined when it sent none. Streams prefer
 * the header, polls the query (docs/polling.md). An id with a control character is 400: no update
 * can carry one, so it would silently replay the whole history.
 */
export function requestedLastEventId(req: RequestHead, prefer: "header" | "query"): string | undefined {
  const header = req.headers["last-event-id"];
  const found = readLastEventId(typeof header === "string" ? header : undefined, req.url, { prefer });
  if (found === undefined || found.from === "header") return found?.id;
  if (EVENT_ID_CONTROL.test(found.id))
    throw new HttpError(400, `"${found.from}" must not contain control characters, as no event id does`);
  return found.id;
}
