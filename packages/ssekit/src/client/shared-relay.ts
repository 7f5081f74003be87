/**
 * What every way of sharing a connection between tabs has in common: the messages the holder of
 * the real connection sends to the others (`Relay`), the sharing key, and a participant (one
 * `EventSource` in one tab) that drops events whose id it has already seen and reports open,
 * events and errors to its sink exactly as a direct connection would. Not responsible for who
 * holds the connection (shared.ts: a leader tab; shared-port.ts and shared-worker.ts: a worker).
 */
import type { ParsedEvent } from "../protocol/index.js";
import type { ConnectionOptions, ConnectionSink } from "./connection.js";
import { SseClientError, type SseClientErrorCode } from "./errors.js";

/** What the leader tab or the shared worker sends to participants. Plain data: it is structured-cloned. */
export type Relay =
  | { readonly k: "hello" }
  | { readonly k: "state"; readonly open: boolean }
  | { readonly k: "open" }
  | {
      readonly k: "event";
      readonly type: string;
      readonly data: string;
      readonly lastEventId: string;
      readonly origin: string;
      /** The event brought a new id (events after it without an id repeat it). */
      readonly fresh: boolean;
    }
  | {
      readonly k: "error";
      readonly fatal: boolean;
      readonly code: SseClientErrorCode;
      readonly message: string;
      readonly status: number | undefined;
    };

export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<void>;
}

/** Web Locks, where the runtime has them (browsers, in secure contexts). */
export function locks(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks && typeof nav.locks.request === "function" ? nav.locks : undefined;
}

/** The name of the lock and channel: the URL and everything that changes what the server sends. */
export function sharingKey(options: ConnectionOptions): string {
  const headers = [...new Headers(options.headers).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const body = typeof options.body === "string" ? options.body : null;
  return `ssekit:${JSON.stringify([options.url, options.method, options.withCredentials, headers, body, options.fallback])}`;
}

/** Ids remembered per participant for deduplication. */
const SEEN_LIMIT = 4096;
/** What the holder of the real connection reports to its own tab, besides relaying. */
interface LocalSink {
  deliver(event: ParsedEvent, origin: string, fresh: boolean): void;
  markOpen(): void;
  reportError(fatal: boolean, error: SseClientError): void;
}

/** One tab's view of the shared connection: dedupe and the open/error state it reports to its sink. */
export interface Participant extends LocalSink {
  /** The tab's own sink, for a direct connection (no dedupe: nothing is shared). */
  readonly sink: ConnectionSink;
  readonly closed: boolean;
  readonly lastEventId: string;
  receive(relay: Relay): void;
  /** Stops for good (idempotent); runs the path's cleanup. */
  stop(): void;
  /** The cleanup `stop()` runs: replaced when the worker path falls back to the leader. */
  cleanup: () => void;
}

export function participant(sink: ConnectionSink, lastEventIdAtStart: string): Participant {
  let closed = false;
  let open = false;
  let lastEventId = lastEventIdAtStart;
  const seen = new Set<string>();
  let droppingRun = false;
  const self: Participant = {
    sink,
    get closed() {
      return closed;
    },
    get lastEventId() {
      return lastEventId;
    },
    deliver(event, origin, fresh) {
      if (closed) return;
      if (fresh && event.lastEventId !== "") {
        droppingRun = seen.has(event.lastEventId);
        if (!droppingRun) {
          seen.add(event.lastEventId);
          if (seen.size > SEEN_LIMIT) {
            const oldest = seen.values().next();
            if (!oldest.done) seen.delete(oldest.value);
          }
        }
      } else if (fresh) droppingRun = false;
      if (droppingRun) return;
      lastEventId = event.lastEventId;
      sink.message(event, origin);
    },
    markOpen() {
      if (open || closed) return;
      open = true;
      sink.open();
    },
    reportError(fatal, error) {
      if (closed) return;
      open = false;
      if (fatal) {
        self.stop();
        sink.failed(error);
      } else sink.reconnecting(error);
    },
    receive(relay) {
      switch (relay.k) {
        case "hello":
          break;
        case "state":
          if (relay.open) self.markOpen();
          break;
        case "open":
          self.markOpen();
          break;
        case "event":
          self.deliver(
            { type: relay.type, data: relay.data, lastEventId: relay.lastEventId },
            relay.origin,
            relay.fresh,
          );
          break;
        case "error":
          self.reportError(
            relay.fatal,
            new SseClientError(
              relay.code,
              relay.message,
              relay.status === undefined ? {} : { status: relay.status },
            ),
          );
          break;
      }
    },
    stop() {
      if (closed) return;
      closed = true;
      self.cleanup();
    },
    cleanup: () => {},
  };
  return self;
}

/**
 * Calls `hidden` on `pagehide` and `restored` on a `pageshow` that brings the page back from the
 * back/forward cache; returns what stops listening. Where there are no page events (Node,
 * workers) it does nothing.
 */
export function watchPageCache(hidden: () => void, restored: () => void): () => void {
  const page = globalThis as { addEventListener?: unknown; removeEventListener?: unknown };
  if (typeof page.addEventListener !== "function" || typeof page.removeEventListener !== "function")
    return () => {};
  const onPageShow = (event: Event) => {
    if ((event as { persisted?: boolean }).persisted) restored();
  };
  globalThis.addEventListener("pagehide", hidden);
  globalThis.addEventListener("pageshow", onPageShow);
  return () => {
    globalThis.removeEventListener("pagehide", hidden);
    globalThis.removeEventListener("pageshow", onPageShow);
  };
}

/**
 * A sink for the one holding the real connection (leader tab or worker): it tells `relay` what to
 * send to the others, with `fresh` computed as participants expect it, and `local` (the leader's
 * own tab) hears the same with the original error objects.
 */
export function relayingSink(
  lastEventId: string,
  relay: (message: Relay) => void,
  local?: LocalSink,
): ConnectionSink {
  let previousId = lastEventId;
  return {
    open() {
      relay({ k: "open" });
      local?.markOpen();
    },
    message(event, origin) {
      const fresh = event.lastEventId !== previousId;
      previousId = event.lastEventId;
      relay({
        k: "event",
        type: event.type,
        data: event.data,
        lastEventId: event.lastEventId,
        origin,
        fresh,
      });
      local?.deliver(event, origin, fresh);
    },
    reconnecting(error) {
      relay({ k: "error", fatal: false, code: error.code, message: error.message, status: error.status });
      local?.reportError(false, error);
    },
    failed(error) {
      relay({ k: "error", fatal: true, code: error.code, message: error.message, status: error.status });
      local?.reportError(true, error);
    },
  };
}
