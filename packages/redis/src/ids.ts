/**
 * Redis stream entry ids (`<milliseconds>-<sequence>`): recognizing and ordering them. Pure string
 * work, no I/O. Both parts are compared as decimal numbers of any length, so ids past 2^53 order
 * correctly too.
 */

const STREAM_ID = /^(0|[1-9][0-9]*)-(0|[1-9][0-9]*)$/;

/** The id before every entry: reading after it reads from the start of the log. */
export const START = "0-0";

/** Whether `id` is a complete stream entry id (`1733061234567-0`). */
export function isStreamId(id: string): boolean {
  return STREAM_ID.test(id);
}

function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders two stream entry ids: negative when `a` comes first, 0 when equal, positive after. */
export function compareIds(a: string, b: string): number {
  const dashA = a.indexOf("-");
  const dashB = b.indexOf("-");
  return (
    compareDecimal(a.slice(0, dashA), b.slice(0, dashB)) ||
    compareDecimal(a.slice(dashA + 1), b.slice(dashB + 1))
  );
}
