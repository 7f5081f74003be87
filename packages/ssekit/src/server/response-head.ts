/**
 * Keeps small what Node holds per HTTP/1.1 response for the life of the connection: its head.
 * Not responsible for writing anything (node-session.ts calls it once the head is on the socket).
 */
import type { ServerResponse } from "node:http";

/** The newest response head seen; the next identical one is replaced by it. */
let sharedHead = "";
/** Whether `_header` is a plain writable field of responses, learnt from the first one. */
let headIsData: boolean | undefined;

/**
 * Node keeps an HTTP/1.1 response's status line and headers (`_header`, what `headersSent` reads;
 * its content is not read again once written) for the life of the connection, built by one string
 * concatenation per piece: a tree of some twenty cons strings, about 0.7 KiB per connection.
 * Reading a character makes V8 flatten it into one string of about 0.2 KiB, and the tree becomes
 * garbage; a head equal to the previous session's (same headers, same `Date` second: a burst of
 * reconnects) is replaced by that same string, so such sessions share one. Called only once the
 * head is written. Returns whether it is an HTTP/1.x head, which the direct sink relies on.
 */
export function compactHead(res: ServerResponse): boolean {
  const target = res as { _header?: unknown };
  const head = target._header;
  if (typeof head !== "string" || head.charCodeAt(0) !== 0x48) return false; // the "H" of "HTTP/1.1"
  headIsData ??= Object.getOwnPropertyDescriptor(res, "_header")?.writable === true;
  if (head === sharedHead) {
    // Only where Node keeps it as a plain field (a Node that made it an accessor keeps its own).
    if (headIsData) target._header = sharedHead;
  } else sharedHead = head;
  return true;
}
