/**
 * The life of one logical connection: the WHATWG reconnection loop (9.2.3 "Processing model":
 * announce, fail, reestablish), backoff between failed attempts, `maxRetries`, and the switch to
 * polling (docs/polling.md) when the runtime cannot stream or a proxy buffers the stream. It
 * reports to a `ConnectionSink`; it does not know about EventTarget, tabs or MessageEvent.
 */
import { decodeHeaderId, type ParsedEvent } from "../protocol/index.js";
import { reconnectDelay } from "./backoff.js";
import { SseClientError } from "./errors.js";
import { pollOnce } from "./poll.js";
import { type FetchLike, networkError, readEventStream, requestInit, responseProblem } from "./request.js";

/** Who hears about the connection: an EventSource, or a tab-sharing leader relaying to other tabs. */
export interface ConnectionSink {
  /** The connection is established (readyState OPEN, fire `open`). */
  open(): void;
  /** An event arrived; `origin` is the final response URL's origin. */
  message(event: ParsedEvent, origin: string): void;
  /** The connection dropped and will be retried (readyState CONNECTING, fire `error`). */
  reconnecting(error: SseClientError): void;
  /** The connection failed for good (readyState CLOSED, fire `error`). */
  failed(error: SseClientError): void;
}

/** Everything the loop needs, with defaults applied. */
export interface ConnectionOptions {
  readonly url: string;
  readonly fetch: FetchLike;
  readonly method: string;
  readonly headers: HeadersInit | undefined;
  readonly body: BodyInit | null | undefined;
  readonly withCredentials: boolean;
  readonly lastEventId: string;
  readonly retry: number;
  readonly maxRetryDelay: number;
  readonly maxRetries: number;
  readonly fallback: "none" | "poll";
  readonly stallTimeout: number;
  readonly pollTimeout: number;
}

/** How one attempt ended: whether it had opened, why it ended, and whether that is for good. */
interface Outcome {
  readonly opened: boolean;
  readonly error: SseClientError;
  readonly fatal: boolean;
}

/** A running connection. */
export interface Connection {
  /** Stops for good: aborts the request and any pending reconnect. Idempotent. */
  close(): void;
  /** The last event id (sent as Last-Event-ID on the next attempt). */
  readonly lastEventId: string;
}

/** Starts the loop at once (the first fetch is issued synchronously). */
export function startConnection(options: ConnectionOptions, sink: ConnectionSink): Connection {
  let closed = false;
  let lastEventId = options.lastEventId;
  /**
   * Where the last stream began, as its server said in a `Last-Event-ID` response header (the hub,
   * and ssekit/server sessions given `startsAfter`): headers pass a buffering proxy at once, the
   * events behind them may not. A client that switches to polling before it has seen an id polls
   * from here, so the events the proxy held back are not lost (docs/polling.md).
   */
  let streamStart = "";
  let retry = options.retry;
  let mode: "stream" | "poll" = "stream";
  /** Where the next attempt goes: after a redirect, browsers reconnect to the final URL. */
  let target = options.url;
  let controller: AbortController | undefined;
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });

  /** One streaming attempt. Resolves with what ended it and whether it opened. */
  async function stream(): Promise<Outcome> {
    const abort = new AbortController();
    controller = abort;
    let stalled = false;
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    const armStall = () => {
      if (options.fallback !== "poll" || options.stallTimeout <= 0) return;
      if (stallTimer !== undefined) clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        stalled = true;
        abort.abort();
      }, options.stallTimeout);
    };
    let opened = false;
    armStall();
    try {
      const response = await options.fetch(
        target,
        requestInit({
          url: target,
          method: options.method,
          headers: options.headers,
          body: options.body,
          withCredentials: options.withCredentials,
          lastEventId,
          signal: abort.signal,
        }),
      );
      const problem = responseProblem(response, options.url);
      if (problem) {
        void response.body?.cancel().catch(() => {});
        return { opened, error: problem, fatal: true };
      }
      streamStart = decodeHeaderId(response.headers.get("last-event-id") ?? "");
      if (!response.body) {
        if (options.fallback === "poll") {
          mode = "poll";
          return { opened, error: noBody(options.url), fatal: false };
        }
        return { opened, error: noBody(options.url), fatal: true };
      }
      if (response.redirected && response.url) target = response.url;
      const origin = new URL(response.url || target).origin;
      opened = true;
      if (closed) return { opened, error: ended(options.url), fatal: true };
      sink.open();
      await readEventStream(response.body, lastEventId, {
        onEvent: (event) => {
          lastEventId = event.lastEventId;
          if (!closed) sink.message(event, origin);
        },
        onRetry: (ms) => {
          retry = ms;
        },
        onLastEventId: (id) => {
          lastEventId = id;
        },
        onBytes: armStall,
      });
      return { opened, error: ended(options.url), fatal: false };
    } catch (cause) {
      if (stalled) {
        mode = "poll";
        return {
          opened,
          error: new SseClientError(
            "STALLED",
            `no byte from ${options.url} within ${options.stallTimeout} ms (stallTimeout): switching to polling`,
          ),
          fatal: false,
        };
      }
      return { opened, error: networkError(options.url, cause), fatal: false };
    } finally {
      if (stallTimer !== undefined) clearTimeout(stallTimer);
    }
  }

  /** Polls until an error; resolves with it. */
  async function poll(alreadyOpen: boolean): Promise<Outcome> {
    let opened = alreadyOpen;
    for (;;) {
      const abort = new AbortController();
      controller = abort;
      const from = lastEventId === "" ? streamStart : lastEventId;
      try {
        const batch = await pollOnce({
          url: target,
          fetch: options.fetch,
          headers: options.headers,
          withCredentials: options.withCredentials,
          lastEventId: from,
          // The first poll with no id at all only learns the server's current id: answer at once.
          timeout: from === "" ? 0 : options.pollTimeout,
          signal: abort.signal,
        });
        if (closed) return { opened, error: ended(options.url), fatal: true };
        if (batch.retry !== undefined) retry = batch.retry;
        if (!opened) {
          opened = true;
          sink.open();
        }
        for (const event of batch.events) {
          if (closed) break;
          if (event.id !== "") lastEventId = event.id;
          sink.message({ type: event.type, data: event.data, lastEventId }, batch.origin);
        }
        lastEventId = batch.lastEventId;
        // A server that cannot name a position answers every id-less poll at once: do not spin.
        if (lastEventId === "" && batch.events.length === 0) await sleep(retry);
      } catch (cause) {
        const error = cause instanceof SseClientError ? cause : networkError(options.url, cause);
        return { opened, error, fatal: error.code === "HTTP_STATUS" || error.code === "POLL_RESPONSE" };
      }
      if (closed) return { opened, error: ended(options.url), fatal: true };
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    let open = false;
    while (!closed) {
      const outcome: Outcome = mode === "stream" ? await stream() : await poll(open);
      if (closed) return;
      if (outcome.fatal) {
        closed = true;
        sink.failed(outcome.error);
        return;
      }
      // A stall or a missing body switches to polling at once, without an error event.
      if ((outcome.error.code === "STALLED" || outcome.error.code === "NO_BODY") && mode === "poll") {
        open = open || outcome.opened;
        continue;
      }
      if (outcome.opened) failures = 0;
      else failures++;
      open = false;
      if (failures > options.maxRetries) {
        closed = true;
        sink.failed(
          new SseClientError(
            "MAX_RETRIES",
            `gave up on ${options.url} after ${options.maxRetries} failed reconnects (maxRetries); last: ${outcome.error.message}`,
            { cause: outcome.error },
          ),
        );
        return;
      }
      sink.reconnecting(outcome.error);
      await sleep(reconnectDelay(retry, Math.max(0, failures - 1), options.maxRetryDelay));
    }
  }

  void run();
  return {
    close() {
      if (closed) return;
      closed = true;
      controller?.abort();
      if (timer !== undefined) clearTimeout(timer);
      wake?.();
    },
    get lastEventId() {
      return lastEventId;
    },
  };
}

function noBody(url: string): SseClientError {
  return new SseClientError(
    "NO_BODY",
    `the fetch used for ${url} gives no readable response body: pass fallback: "poll", or a fetch that streams`,
  );
}

function ended(url: string): SseClientError {
  return new SseClientError("STREAM_ENDED", `the stream from ${url} ended; reconnecting`);
}
