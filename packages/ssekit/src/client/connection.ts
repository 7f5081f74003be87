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

/**
 * How one attempt (a stream, or a run of polls) ended. `opened`: the sink heard `open` during it.
 * - `ended`: the stream ended or broke, or a poll failed; reconnect after a delay (the backoff
 *   starts over when it had opened).
 * - `fatal`: the server's answer rules out retrying; fail for good with `error`.
 * - `poll`: streaming cannot work here (no response body, or no byte within `stallTimeout`):
 *   switch to polling at once, without an error event.
 * - `closed`: `close()` was called meanwhile; report nothing.
 */
type Outcome =
  | { readonly kind: "ended"; readonly opened: boolean; readonly error: SseClientError }
  | { readonly kind: "fatal"; readonly error: SseClientError }
  | { readonly kind: "poll"; readonly opened: boolean }
  | { readonly kind: "closed" };

const CLOSED: Outcome = { kind: "closed" };

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

  /** One streaming attempt. */
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
        return { kind: "fatal", error: problem };
      }
      streamStart = decodeHeaderId(response.headers.get("last-event-id") ?? "");
      if (!response.body) {
        return options.fallback === "poll"
          ? { kind: "poll", opened: false }
          : { kind: "fatal", error: noBody(options.url) };
      }
      if (response.redirected && response.url) target = response.url;
      const origin = new URL(response.url || target).origin;
      if (closed) return CLOSED;
      opened = true;
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
      return { kind: "ended", opened: true, error: ended(options.url) };
    } catch (cause) {
      if (stalled) return { kind: "poll", opened };
      return { kind: "ended", opened, error: networkError(options.url, cause) };
    } finally {
      if (stallTimer !== undefined) clearTimeout(stallTimer);
    }
  }

  /** Polls until a poll fails; `alreadyOpen` when the sink heard `open` from the stream before. */
  async function poll(alreadyOpen: boolean): Promise<Outcome> {
    let opened = alreadyOpen;
    for (;;) {
      const abort = new AbortController();
      controller = abort;
      const from = lastEventId === "" ? streamStart : lastEventId;
      const result = await pollOnce({
        url: target,
        fetch: options.fetch,
        headers: options.headers,
        withCredentials: options.withCredentials,
        lastEventId: from,
        // The first poll with no id at all only learns the server's current id: answer at once.
        timeout: from === "" ? 0 : options.pollTimeout,
        signal: abort.signal,
      });
      if (closed) return CLOSED;
      switch (result.kind) {
        case "failed":
          return { kind: "ended", opened, error: result.error };
        case "refused":
          return { kind: "fatal", error: result.error };
      }
      const { batch } = result;
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
      if (closed) return CLOSED;
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    /** The sink heard `open` from a stream that then switched to polling: the poll must not repeat it. */
    let open = false;
    while (!closed) {
      const outcome: Outcome = mode === "stream" ? await stream() : await poll(open);
      // Whatever the attempt came to, a `close()` meanwhile has the last word.
      if (closed) return;
      switch (outcome.kind) {
        case "closed":
          return;
        case "fatal":
          closed = true;
          sink.failed(outcome.error);
          return;
        case "poll":
          mode = "poll";
          open = outcome.opened;
          continue;
        case "ended": {
          failures = outcome.opened ? 0 : failures + 1;
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
