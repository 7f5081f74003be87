/**
 * Tab sharing: every `EventSource` with `shared: true` and the same URL and init, in every tab of
 * an origin, shares one real connection, so the HTTP/1.1 limit of six connections per origin is
 * never reached. One participant is the leader, elected with Web Locks (the lock is held for the
 * leader's life and freed by the browser when its tab goes); it runs the connection and relays
 * open, events and errors over a BroadcastChannel. When it goes, the next participant in the lock
 * queue takes over and resumes with the last event id it saw, so the server replays what was
 * missed; participants drop events whose id they have already seen.
 * Not responsible for the connection itself (connection.ts) or the public object (event-source.ts).
 */
import type { ParsedEvent } from "../protocol/index.js";
import {
  type Connection,
  type ConnectionOptions,
  type ConnectionSink,
  startConnection,
} from "./connection.js";
import { SseClientError, type SseClientErrorCode } from "./errors.js";

interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<void>;
}

/** What travels over the BroadcastChannel. Plain data: it is structured-cloned. */
type Relay =
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

function locks(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks && typeof nav.locks.request === "function" ? nav.locks : undefined;
}

/** Whether this runtime can share connections (Web Locks and BroadcastChannel). */
export function sharingAvailable(): boolean {
  return locks() !== undefined && typeof BroadcastChannel === "function";
}

/** The name of the lock and channel: the URL and everything that changes what the server sends. */
export function sharingKey(options: ConnectionOptions): string {
  const headers = [...new Headers(options.headers).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const body = typeof options.body === "string" ? options.body : null;
  return `ssekit:${JSON.stringify([options.url, options.method, options.withCredentials, headers, body, options.fallback])}`;
}

/** Ids remembered per participant for deduplication. */
const SEEN_LIMIT = 4096;

/** Joins (or leads) the shared connection for `options`; `sink` hears what a direct connection would report. */
export function startSharedConnection(options: ConnectionOptions, sink: ConnectionSink): { close(): void } {
  const manager = locks();
  if (!manager) return startConnection(options, sink);
  const key = sharingKey(options);
  const channel = new BroadcastChannel(key);
  const abort = new AbortController();
  let closed = false;
  let open = false;
  let lastEventId = options.lastEventId;
  let connection: Connection | undefined;
  let release: (() => void) | undefined;
  const seen = new Set<string>();
  let droppingRun = false;

  const post = (message: Relay) => {
    if (!closed) channel.postMessage(message);
  };

  function deliver(event: ParsedEvent, origin: string, fresh: boolean): void {
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
  }

  function markOpen(): void {
    if (open) return;
    open = true;
    sink.open();
  }

  function reportError(fatal: boolean, error: SseClientError): void {
    open = false;
    if (fatal) {
      stop();
      sink.failed(error);
    } else sink.reconnecting(error);
  }

  function lead(): Promise<void> {
    if (closed) return Promise.resolve();
    let previousId = lastEventId;
    const relaySink: ConnectionSink = {
      open() {
        post({ k: "open" });
        markOpen();
      },
      message(event, origin) {
        const fresh = event.lastEventId !== previousId;
        previousId = event.lastEventId;
        post({
          k: "event",
          type: event.type,
          data: event.data,
          lastEventId: event.lastEventId,
          origin,
          fresh,
        });
        deliver(event, origin, fresh);
      },
      reconnecting(error) {
        post({ k: "error", fatal: false, code: error.code, message: error.message, status: error.status });
        reportError(false, error);
      },
      failed(error) {
        post({ k: "error", fatal: true, code: error.code, message: error.message, status: error.status });
        reportError(true, error);
      },
    };
    connection = startConnection({ ...options, lastEventId }, relaySink);
    return new Promise<void>((resolve) => {
      release = resolve;
    });
  }

  channel.onmessage = (message: MessageEvent<Relay>) => {
    const relay = message.data;
    if (closed) return;
    switch (relay.k) {
      case "hello":
        if (connection) post({ k: "state", open });
        break;
      case "state":
        if (relay.open) markOpen();
        break;
      case "open":
        markOpen();
        break;
      case "event":
        deliver(
          { type: relay.type, data: relay.data, lastEventId: relay.lastEventId },
          relay.origin,
          relay.fresh,
        );
        break;
      case "error":
        reportError(
          relay.fatal,
          new SseClientError(
            relay.code,
            relay.message,
            relay.status === undefined ? {} : { status: relay.status },
          ),
        );
        break;
    }
  };

  function stop(): void {
    if (closed) return;
    closed = true;
    connection?.close();
    connection = undefined;
    abort.abort();
    release?.();
    channel.close();
  }

  manager.request(key, { signal: abort.signal }, lead).catch(() => {
    // Aborted while waiting in the queue: this participant closed before it had to lead.
  });
  channel.postMessage({ k: "hello" } satisfies Relay);
  return { close: stop };
}
