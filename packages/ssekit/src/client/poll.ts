/**
 * One request of the long-polling form of a stream (docs/polling.md): builds the poll URL
 * (`poll=1`, `lastEventID`, `timeout`), sends it with the stream's headers and credentials,
 * validates the JSON batch, and tells a failure worth retrying from a refusal. Not responsible
 * for the polling loop, which lives in connection.ts.
 */
import { SseClientError } from "./errors.js";
import { type FetchLike, mimeType, networkError, requestInit, responseProblem } from "./request.js";

/** One event of a poll batch, as the stream would have dispatched it. */
export interface PolledEvent {
  readonly type: string;
  readonly data: string;
  readonly id: string;
}

/** A validated poll response. */
export interface PollBatch {
  readonly events: readonly PolledEvent[];
  readonly lastEventId: string;
  readonly retry: number | undefined;
  readonly reset: boolean;
  /** The origin of the final response URL (after redirects). */
  readonly origin: string;
}

/** What one poll came to. */
export type PollResult =
  | { readonly kind: "batch"; readonly batch: PollBatch }
  /** fetch failed or the response broke off (`NETWORK`): worth polling again after a delay. */
  | { readonly kind: "failed"; readonly error: SseClientError }
  /** The server answered, but not with a poll batch (`HTTP_STATUS`, `POLL_RESPONSE`): polling again will not help. */
  | { readonly kind: "refused"; readonly error: SseClientError };

/** What one poll needs. */
export interface PollOptions {
  readonly url: string;
  readonly fetch: FetchLike;
  readonly headers?: HeadersInit | undefined;
  readonly withCredentials?: boolean | undefined;
  /** The last event id seen; "" on the first poll (the server answers at once with its current id). */
  readonly lastEventId: string;
  /** How long the server may hold the request, in milliseconds. */
  readonly timeout: number;
  readonly signal: AbortSignal;
}

/** The stream URL with `poll=1`, `lastEventID` and `timeout` added and its own query kept. */
export function pollUrl(url: string, lastEventId: string, timeout: number): string {
  const target = new URL(url);
  target.searchParams.set("poll", "1");
  if (lastEventId !== "") target.searchParams.set("lastEventID", lastEventId);
  else target.searchParams.delete("lastEventID");
  target.searchParams.set("timeout", String(timeout));
  return target.href;
}

function refused(url: string, why: string): PollResult {
  const error = new SseClientError(
    "POLL_RESPONSE",
    `poll of ${url} returned ${why}; a polling endpoint answers JSON as docs/polling.md specifies`,
  );
  return { kind: "refused", error };
}

/** The batch in a JSON body, or what is wrong with the body. */
function parseBatch(value: unknown, origin: string): PollBatch | string {
  if (typeof value !== "object" || value === null) return "a body that is not a JSON object";
  const body = value as Record<string, unknown>;
  if (!Array.isArray(body.events)) return 'no "events" array';
  const events: PolledEvent[] = [];
  for (const item of body.events as unknown[]) {
    const event = (item ?? {}) as Record<string, unknown>;
    if (typeof event.data !== "string") return 'an event whose "data" is not a string';
    events.push({
      type: typeof event.type === "string" && event.type !== "" ? event.type : "message",
      data: event.data,
      id: typeof event.id === "string" ? event.id : "",
    });
  }
  if (typeof body.lastEventId !== "string") return 'no "lastEventId" string';
  const retry = typeof body.retry === "number" && body.retry >= 0 ? Math.floor(body.retry) : undefined;
  return { events, lastEventId: body.lastEventId, retry, reset: body.reset === true, origin };
}

/** Sends one poll. Never rejects: a failure is a `PollResult` too. */
export async function pollOnce(options: PollOptions): Promise<PollResult> {
  const target = pollUrl(options.url, options.lastEventId, options.timeout);
  let response: Response;
  let value: unknown;
  try {
    response = await options.fetch(
      target,
      requestInit({
        url: target,
        headers: options.headers,
        withCredentials: options.withCredentials,
        lastEventId: options.lastEventId,
        signal: options.signal,
        accept: "application/json",
      }),
    );
  } catch (cause) {
    return { kind: "failed", error: networkError(options.url, cause) };
  }
  // A status other than 200 is refused as such; a wrong Content-Type is a POLL_RESPONSE below.
  const problem = responseProblem(response, options.url);
  if (problem?.code === "HTTP_STATUS") return { kind: "refused", error: problem };
  if (mimeType(response.headers.get("content-type")) !== "application/json")
    return refused(options.url, `Content-Type ${JSON.stringify(response.headers.get("content-type"))}`);
  try {
    value = await response.json();
  } catch (cause) {
    if (options.signal.aborted) return { kind: "failed", error: networkError(options.url, cause) };
    return refused(options.url, "a body that is not JSON");
  }
  const batch = parseBatch(value, new URL(response.url || options.url).origin);
  return typeof batch === "string" ? refused(options.url, batch) : { kind: "batch", batch };
}
