/**
 * Reads what a subscribe or poll request asks for from its query: the topic selectors of both
 * protocol generations (0.x `topic`, URI templates allowed; 1.0 `match`, exact, and
 * `match_urlpattern`) and the last event id (`Last-Event-ID` header, then 1.0 `last_event_id`,
 * then 0.x `lastEventID`). Not responsible for matching (topics.ts) or authorization (auth.ts).
 */
import { HttpError, type HubRequest } from "./http.js";
import { compileSelector, type Selector, SelectorError, type SelectorKind } from "./topics.js";

const PARAMS: readonly (readonly [string, SelectorKind])[] = [
  ["topic", "template"],
  ["match", "exact"],
  ["match_urlpattern", "urlpattern"],
];

/** The request's selectors; 400 when there are none or one does not compile. */
export function requestedSelectors(query: URLSearchParams): readonly Selector[] {
  const selectors: Selector[] = [];
  for (const [param, kind] of PARAMS) {
    for (const text of query.getAll(param)) {
      if (text === "") throw new HttpError(400, `"${param}" must not be empty`);
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

/** The last event id the client has seen, or undefined when it sent none. */
export function requestedLastEventId(req: HubRequest, query: URLSearchParams): string | undefined {
  const header = req.headers["last-event-id"];
  if (typeof header === "string" && header !== "") return header;
  for (const name of ["last_event_id", "lastEventID"]) {
    const value = query.get(name);
    if (value !== null && value !== "") return value;
  }
  return undefined;
}
