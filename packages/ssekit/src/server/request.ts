/**
 * Reading the last event id a reconnecting client sends: the `Last-Event-ID` header (UTF-8 bytes,
 * as browsers send a non-ASCII id), or for clients that cannot set headers a query parameter.
 * Pure string work; what an id means (replay, polling) is the caller's.
 */
import { decodeHeaderId } from "../protocol/index.js";

/** The query parameters read, in this order: ssekit's, Mercure 1.0's, Mercure 0.x's. */
const QUERY_NAMES = ["lastEventId", "last_event_id", "lastEventID"] as const;

/** Where a last event id was read: the header, or the query parameter of that name. */
export type LastEventIdSource = "header" | (typeof QUERY_NAMES)[number];

export interface LastEventId {
  readonly id: string;
  readonly from: LastEventIdSource;
}

/**
 * The last event id of a request, given its `Last-Event-ID` header value and its URL (absolute, or
 * path and query): the header, else the first non-empty of the `lastEventId`, `last_event_id` and
 * `lastEventID` query parameters. `prefer: "query"` reads the query first (the polling protocol,
 * docs/polling.md). An empty value counts as none. Undefined when the request has none.
 */
export function readLastEventId(
  header: string | null | undefined,
  url: string | undefined,
  options: { readonly prefer?: "header" | "query" } = {},
): LastEventId | undefined {
  const fromHeader = header ? { id: decodeHeaderId(header), from: "header" as const } : undefined;
  if (fromHeader !== undefined && options.prefer !== "query") return fromHeader;
  return fromQuery(url) ?? fromHeader;
}

const MAY_HAVE_ID = /ast_?[eE]vent_?[iI]/;

function fromQuery(url: string | undefined): LastEventId | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf("?");
  // Most requests carry none of the parameters: no URLSearchParams for them.
  if (q === -1 || !MAY_HAVE_ID.test(url)) return undefined;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const name of QUERY_NAMES) {
    const id = params.get(name);
    if (id) return { id, from: name };
  }
  return undefined;
}
