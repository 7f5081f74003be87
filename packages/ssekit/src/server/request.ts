/**
 * Reading what a reconnecting client tells the server: its last event id, from the
 * `Last-Event-ID` header or, for clients that cannot set headers, the `lastEventId` (or
 * `lastEventID`, as Mercure spells it) query parameter. The header wins; a non-ASCII id in it is
 * UTF-8 bytes, as browsers send it. Pure string work.
 */
import { decodeHeaderId } from "../protocol/index.js";

/** Returns the last event id of a request, given its header value and its URL (path and query). */
export function readLastEventId(
  header: string | null | undefined,
  url: string | undefined,
): string | undefined {
  if (typeof header === "string") return decodeHeaderId(header);
  if (url === undefined) return undefined;
  const q = url.indexOf("?");
  if (q === -1 || url.indexOf("astEvent", q) === -1) return undefined;
  const params = new URLSearchParams(url.slice(q + 1));
  return params.get("lastEventId") ?? params.get("lastEventID") ?? undefined;
}
