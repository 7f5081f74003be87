/**
 * One event-stream request over `fetch`: building it (WHATWG HTML "Server-sent events", 9.2.2:
 * `Accept: text/event-stream`, no caching, credentials per `withCredentials`, `Last-Event-ID` on
 * reconnect), checking the response (200 and `text/event-stream`, else the connection fails), and
 * reading its body into the protocol parser. Not responsible for reconnecting or dispatching.
 */
import { createParser, encodeHeaderId, type ParsedEvent } from "../protocol/index.js";
import { SseClientError } from "./errors.js";

/** The `fetch` signature the client calls; any WHATWG-compatible implementation fits. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** What a request needs; assembled by `EventSource` and `events()` from their init. */
export interface StreamRequestOptions {
  readonly url: string;
  readonly method?: string | undefined;
  readonly headers?: HeadersInit | undefined;
  readonly body?: BodyInit | null | undefined;
  readonly withCredentials?: boolean | undefined;
  readonly lastEventId?: string | undefined;
  readonly signal: AbortSignal;
  readonly accept?: string;
}

/**
 * True where a browser's HTTP cache applies (there, `cache: "no-store"` avoids a CORS preflight):
 * pages, and workers (dedicated and shared, where the tab-sharing connection lives), which have
 * `importScripts` and no `document`. Node, Deno and Bun have neither.
 */
function inBrowser(): boolean {
  const scope = globalThis as { document?: unknown; importScripts?: unknown };
  return typeof scope.document === "object" || typeof scope.importScripts === "function";
}

/** The `RequestInit` for one attempt. */
export function requestInit(options: StreamRequestOptions): RequestInit {
  const headers = new Headers(options.headers);
  headers.set("Accept", options.accept ?? "text/event-stream");
  if (options.lastEventId !== undefined && options.lastEventId !== "")
    headers.set("Last-Event-ID", encodeHeaderId(options.lastEventId));
  const init: RequestInit = {
    method: options.method ?? "GET",
    headers,
    credentials: options.withCredentials ? "include" : "same-origin",
    redirect: "follow",
    signal: options.signal,
  };
  // Browsers: the cache mode (a Cache-Control header would make cross-origin requests preflighted);
  // Fetch then adds `Cache-Control: no-cache` and `Pragma: no-cache` itself (HTTP-network-or-cache
  // fetch, cache mode "no-store"). Elsewhere there is no HTTP cache to bypass, but proxies may have
  // one: send the same two headers a browser sends.
  if (inBrowser()) init.cache = "no-store";
  else {
    if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-cache");
    if (!headers.has("Pragma")) headers.set("Pragma", "no-cache");
  }
  if (options.body !== undefined && options.body !== null) init.body = options.body;
  return init;
}

/** The MIME type of a Content-Type header value, lower-cased, without parameters. */
export function mimeType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Why a response cannot be read as an event stream, or undefined when it can (9.2.2 step "announce"). */
export function responseProblem(response: Response, url: string): SseClientError | undefined {
  if (response.status !== 200) {
    return new SseClientError(
      "HTTP_STATUS",
      `${url} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}, not 200: ` +
        "the connection is closed and not retried (answer 200 with text/event-stream, or 204 to stop clients)",
      { status: response.status },
    );
  }
  const contentType = response.headers.get("content-type");
  if (mimeType(contentType) !== "text/event-stream") {
    return new SseClientError(
      "CONTENT_TYPE",
      `${url} answered with Content-Type ${JSON.stringify(contentType ?? "")}, not text/event-stream: ` +
        "the connection is closed and not retried",
      { status: response.status, contentType: contentType ?? "" },
    );
  }
  return undefined;
}

/** Wraps whatever fetch or a body read threw. */
export function networkError(url: string, cause: unknown): SseClientError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new SseClientError("NETWORK", `request to ${url} failed: ${why}`, { cause });
}

/** Callbacks of `readEventStream`. */
export interface StreamReadCallbacks {
  readonly onEvent: (event: ParsedEvent) => void;
  readonly onRetry?: (ms: number) => void;
  /** A block with an `id` but no data set the last event id (the parser's `onLastEventId`). */
  readonly onLastEventId?: (id: string) => void;
  /** Called for every chunk of bytes, heartbeats included (the stall detector listens here). */
  readonly onBytes?: () => void;
}

const BOM = [0xef, 0xbb, 0xbf];

/**
 * A parser for one connection that starts from `lastEventId`: the spec keeps the last event id
 * across reconnects, so events without an `id` on the new connection carry the previous one. The
 * parser starts from "", so an `id` line is fed first; since that would stop the parser from
 * stripping the stream's own leading BOM, the BOM (possibly split over chunks) is stripped here.
 */
export function connectionParser(lastEventId: string, callbacks: StreamReadCallbacks) {
  const parser = createParser({
    onEvent: callbacks.onEvent,
    ...(callbacks.onRetry ? { onRetry: callbacks.onRetry } : {}),
    ...(callbacks.onLastEventId ? { onLastEventId: callbacks.onLastEventId } : {}),
  });
  if (lastEventId === "") return { feed: (c: Uint8Array) => parser.feed(c), end: () => parser.end() };
  // A block of its own, so that the parser counts this id as already the event source's.
  parser.feed(`id: ${lastEventId}\n\n`);
  let head: number[] | undefined = [];
  const flushHead = (): void => {
    if (!head) return;
    const bytes = head.length === 3 && head.every((b, i) => b === BOM[i]) ? [] : head;
    head = undefined;
    if (bytes.length > 0) parser.feed(Uint8Array.from(bytes));
  };
  return {
    feed(chunk: Uint8Array): void {
      let start = 0;
      while (head && start < chunk.length) {
        const byte = chunk[start] ?? 0;
        if (byte !== BOM[head.length]) {
          flushHead();
          break;
        }
        head.push(byte);
        start++;
        if (head.length === 3) flushHead();
      }
      if (start < chunk.length) {
        flushHead();
        parser.feed(start === 0 ? chunk : chunk.subarray(start));
      }
    },
    end(): void {
      flushHead();
      parser.end();
    },
  };
}

/** Reads `body` to its end into a connection parser. Rejects when the read fails. */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  lastEventId: string,
  callbacks: StreamReadCallbacks,
): Promise<void> {
  const parser = connectionParser(lastEventId, callbacks);
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      callbacks.onBytes?.();
      parser.feed(value);
    }
    parser.end();
  } finally {
    reader.releaseLock();
  }
}
