/**
 * `events(url, init)`: one request, its events as an async iterator (the shape for streamed LLM
 * responses). It ends with the stream, throws an `SseClientError` when the request fails, and aborts
 * the request when the loop breaks or `init.signal` aborts. No reconnection: that is `EventSource`.
 */
import type { ParsedEvent } from "../protocol/index.js";
import { SseClientError } from "./errors.js";
import { connectionParser, type FetchLike, networkError, requestInit, responseProblem } from "./request.js";

/** Options of `events()`. */
export interface EventsInit {
  /** The request method. Default: "GET", or "POST" when `body` is given. */
  readonly method?: string;
  /** Request headers. Default: none (Accept is always `text/event-stream`). */
  readonly headers?: HeadersInit;
  /** A request body; a plain object is sent as JSON. Default: none. */
  readonly body?: BodyInit | Record<string, unknown> | null;
  /** Send cookies cross-origin. Default: false. */
  readonly withCredentials?: boolean;
  /** Sent as `Last-Event-ID`. Default: none. */
  readonly lastEventId?: string;
  /** Aborts the request and ends the iteration with the signal's reason. Default: none. */
  readonly signal?: AbortSignal;
  /** The `fetch` implementation. Default: the global `fetch`. */
  readonly fetch?: FetchLike;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Streams the events of one response. */
export async function* events(url: string | URL, init: EventsInit = {}): AsyncGenerator<ParsedEvent, void> {
  const target = new URL(String(url), (globalThis as { location?: { href?: string } }).location?.href).href;
  const controller = new AbortController();
  const outer = init.signal;
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener("abort", onAbort, { once: true });
  const json = isPlainObject(init.body);
  const headers = new Headers(init.headers);
  if (json && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const body: BodyInit | null | undefined = json ? JSON.stringify(init.body) : (init.body as BodyInit | null);
  const doFetch: FetchLike = init.fetch ?? ((input, requestOptions) => fetch(input, requestOptions));
  const queue: ParsedEvent[] = [];
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    let response: Response;
    try {
      response = await doFetch(
        target,
        requestInit({
          url: target,
          method: init.method ?? (body === undefined || body === null ? "GET" : "POST"),
          headers,
          body,
          withCredentials: init.withCredentials,
          lastEventId: init.lastEventId,
          signal: controller.signal,
        }),
      );
    } catch (cause) {
      if (outer?.aborted) throw outer.reason;
      throw networkError(target, cause);
    }
    const problem = responseProblem(response, target);
    if (problem) {
      void response.body?.cancel().catch(() => {});
      throw problem;
    }
    if (!response.body)
      throw new SseClientError("NO_BODY", `the fetch used for ${target} gives no readable response body`);
    const parser = connectionParser(init.lastEventId ?? "", { onEvent: (event) => queue.push(event) });
    reader = response.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (cause) {
        if (outer?.aborted) throw outer.reason;
        throw networkError(target, cause);
      }
      if (chunk.done) break;
      parser.feed(chunk.value);
      while (queue.length > 0) {
        const event = queue.shift();
        if (event) yield event;
      }
    }
    parser.end();
  } finally {
    outer?.removeEventListener("abort", onAbort);
    if (!controller.signal.aborted) controller.abort();
    reader?.cancel().catch(() => {});
  }
}
