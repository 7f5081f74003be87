/**
 * `EventSource`: the standard interface (WHATWG HTML, "Server-sent events", 9.2.2) on top of
 * `fetch`, so it runs in Node 20+, browsers, Deno, Bun and workers, plus the extras in
 * `EventSourceInit`. Responsible for the public object: URL resolution, readyState, handler
 * attributes and dispatching `MessageEvent`s. The reconnection loop is connection.ts; tab sharing
 * is shared.ts.
 */
import type { ParsedEvent } from "../protocol/index.js";
import { type ConnectionOptions, type ConnectionSink, startConnection } from "./connection.js";
import { type SseClientError, SseErrorEvent } from "./errors.js";
import type { FetchLike } from "./request.js";
import { type SharedOption, startSharedConnection } from "./shared.js";

/** Options of `new EventSource(url, init)`. Only `withCredentials` is standard; the rest are ssekit extras. */
export interface EventSourceInit {
  /** Send cookies and credentials cross-origin (fetch `credentials: "include"`). Default: false. */
  readonly withCredentials?: boolean;
  /** Extra request headers, for example `Authorization`. Default: none. */
  readonly headers?: HeadersInit;
  /** The request method. Default: "GET". */
  readonly method?: string;
  /** A request body (with `method: "POST"`), sent again on each reconnect. Default: none. */
  readonly body?: BodyInit | null;
  /** The `fetch` implementation to use. Default: the global `fetch`. */
  readonly fetch?: FetchLike;
  /** Reconnection delay in milliseconds until the server sends `retry`. Default: 3000 (as browsers). */
  readonly retry?: number;
  /** Cap of the delay, which doubles for each consecutive failed reconnect. Default: 30000. */
  readonly maxRetryDelay?: number;
  /** Consecutive failed reconnects after which the source closes with `MAX_RETRIES`. Default: Infinity. */
  readonly maxRetries?: number;
  /** The last event id to start from (sent as `Last-Event-ID` on the first request). Default: "". */
  readonly lastEventId?: string;
  /**
   * `"poll"`: switch to the polling protocol (docs/polling.md) when the runtime's fetch has no
   * streaming body or no byte arrives within `stallTimeout`. Default: "none".
   */
  readonly fallback?: "none" | "poll";
  /** With `fallback: "poll"`: milliseconds without any byte (heartbeats count) before polling. Default: 30000. */
  readonly stallTimeout?: number;
  /** With polling: how long the server may hold each poll, in milliseconds. Default: 25000. */
  readonly pollTimeout?: number;
  /**
   * Browsers: every tab of this origin with the same URL and init shares one connection.
   * - `true`: a tab elected with Web Locks holds it and relays events over BroadcastChannel.
   * - `{ worker: url }`: a SharedWorker running the `ssekit/client/shared-worker` script served at
   *   `url` (same origin) holds it; where SharedWorker is missing (Chrome on Android), the script
   *   fails to start, or `fetch` or a non-string `body` is given (they cannot reach a worker),
   *   the Web Locks leader is used instead.
   * Events, ids, dedupe and errors are the same either way. Without Web Locks or BroadcastChannel
   * (Node) and no SharedWorker, the connection is not shared. Default: false.
   */
  readonly shared?: SharedOption;
}

type Handler<E extends Event> = ((this: EventSource, event: E) => unknown) | null;

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

function documentBase(): string | undefined {
  const g = globalThis as { document?: { baseURI?: string }; location?: { href?: string } };
  return g.document?.baseURI ?? g.location?.href;
}

/** Validates and applies the defaults of the extras. */
export function connectionOptions(url: string, init: EventSourceInit): ConnectionOptions {
  const fetchImpl = init.fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (typeof fetchImpl !== "function")
    throw new TypeError("EventSource needs fetch: this runtime has no global fetch, pass init.fetch");
  const lastEventId = init.lastEventId ?? "";
  if (/[\r\n\0]/.test(lastEventId))
    throw new TypeError(
      `init.lastEventId must not contain CR, LF or NUL (got ${JSON.stringify(lastEventId)})`,
    );
  const nonNegative = (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!(value >= 0)) throw new TypeError(`init.${name} must be a non-negative number (got ${value})`);
    return value;
  };
  return {
    url,
    // Bound to globalThis: some runtimes reject fetch called as a method of another object.
    fetch: init.fetch ?? ((input, requestInit) => fetchImpl(input, requestInit)),
    method: init.method ?? "GET",
    headers: init.headers,
    body: init.body,
    withCredentials: init.withCredentials === true,
    lastEventId,
    retry: nonNegative("retry", init.retry, 3000),
    maxRetryDelay: nonNegative("maxRetryDelay", init.maxRetryDelay, 30000),
    maxRetries: nonNegative("maxRetries", init.maxRetries, Number.POSITIVE_INFINITY),
    fallback: init.fallback ?? "none",
    stallTimeout: nonNegative("stallTimeout", init.stallTimeout, 30000),
    pollTimeout: nonNegative("pollTimeout", init.pollTimeout, 25000),
  };
}

/** A drop-in `EventSource` over `fetch`. */
export class EventSource extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSED = CLOSED;

  /** The resolved URL of the stream (the original one, even after redirects). */
  readonly url: string;
  readonly withCredentials: boolean;
  #readyState: 0 | 1 | 2 = CONNECTING;
  #connection: { close(): void } | undefined;
  readonly #handlers = new Map<string, Handler<Event>>();

  constructor(url: string | URL, init: EventSourceInit = {}) {
    super();
    let resolved: URL;
    try {
      resolved = new URL(String(url), documentBase());
    } catch {
      throw new DOMException(`cannot parse ${JSON.stringify(String(url))} as a URL`, "SyntaxError");
    }
    this.url = resolved.href;
    this.withCredentials = init.withCredentials === true;
    const options = connectionOptions(this.url, init);
    const sink: ConnectionSink = {
      open: () => {
        if (this.#readyState === CLOSED) return;
        this.#readyState = OPEN;
        this.dispatchEvent(new Event("open"));
      },
      message: (event: ParsedEvent, origin: string) => {
        if (this.#readyState === CLOSED) return;
        this.dispatchEvent(
          new MessageEvent(event.type, { data: event.data, origin, lastEventId: event.lastEventId }),
        );
      },
      reconnecting: (error: SseClientError) => {
        if (this.#readyState === CLOSED) return;
        this.#readyState = CONNECTING;
        this.dispatchEvent(new SseErrorEvent(error));
      },
      failed: (error: SseClientError) => {
        if (this.#readyState === CLOSED) return;
        this.#readyState = CLOSED;
        this.dispatchEvent(new SseErrorEvent(error));
      },
    };
    this.#connection = init.shared
      ? startSharedConnection(options, sink, init.shared, init.fetch !== undefined)
      : startConnection(options, sink);
  }

  /** CONNECTING (0), OPEN (1) or CLOSED (2). */
  get readyState(): 0 | 1 | 2 {
    return this.#readyState;
  }

  /** Closes the connection for good; no more events, no reconnect. */
  close(): void {
    this.#readyState = CLOSED;
    this.#connection?.close();
    this.#connection = undefined;
  }

  #handler<E extends Event>(type: string): Handler<E> {
    return (this.#handlers.get(type) as Handler<E> | undefined) ?? null;
  }

  #setHandler<E extends Event>(type: string, handler: Handler<E>): void {
    if (!this.#handlers.has(type)) {
      this.addEventListener(type, (event) => {
        const current = this.#handlers.get(type);
        if (typeof current === "function") current.call(this, event);
      });
    }
    this.#handlers.set(type, typeof handler === "function" ? (handler as Handler<Event>) : null);
  }

  get onopen(): Handler<Event> {
    return this.#handler("open");
  }
  set onopen(handler: Handler<Event>) {
    this.#setHandler("open", handler);
  }
  get onmessage(): Handler<MessageEvent> {
    return this.#handler("message");
  }
  set onmessage(handler: Handler<MessageEvent>) {
    this.#setHandler("message", handler);
  }
  get onerror(): Handler<SseErrorEvent> {
    return this.#handler("error");
  }
  set onerror(handler: Handler<SseErrorEvent>) {
    this.#setHandler("error", handler);
  }
}

/** `new EventSource(url, init)`, for code that prefers a function; pass `fallback: "poll"` to poll where streaming fails. */
export function connect(url: string | URL, init: EventSourceInit = {}): EventSource {
  return new EventSource(url, init);
}
