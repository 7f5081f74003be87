/**
 * The polling form of a channel with history (docs/polling.md): a JSON batch of the events after
 * the last event id, held up to `timeout` ms when there are none, read through a `PollSource` (the
 * ring, or a bus's log). Web standards only. Not responsible for the Mercure hub's polling.
 */
import { readLastEventId } from "./request.js";

/** What a poll answers with of an event: the fields a channel's history keeps. */
export interface PolledEvent {
  readonly event: string | undefined;
  readonly data: string;
  readonly id: string | undefined;
}

/** What one read of a poll source returns. */
export interface PollBatch {
  /** Oldest first, at most the `max` asked for. */
  readonly events: readonly PolledEvent[];
  /** The id asked for could not be resumed exactly: `events` are the oldest kept. */
  readonly reset: boolean;
}

/** Where a poll reads events: a channel's history, in-process or shared. */
export interface PollSource {
  readonly isClosed: boolean;
  /** The newest event's id, if any. */
  readonly lastEventId: string | undefined;
  /** Events after `last` (`"earliest"`: from the oldest kept). */
  read(last: string, max: number): PollBatch | Promise<PollBatch>;
  /** Calls `wake` once at the next event or close; returns a function that cancels. */
  onNextEvent(wake: () => void): () => void;
}

export interface PollOptions {
  /** Most events per response. Default: 1000. */
  readonly maxEvents?: number;
  /** Cap on the `timeout` a client may ask for, in ms. Default: 30000. */
  readonly maxTimeout?: number;
  /** `retry` hint in the response, in ms. Default: none. */
  readonly retry?: number;
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

function batch(
  entries: readonly PolledEvent[],
  lastEventId: string,
  options: PollOptions,
  reset: boolean,
): Response {
  const body = {
    events: entries.map((e) => ({ type: e.event ?? "message", data: e.data, id: e.id })),
    lastEventId,
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
    ...(reset ? { reset: true } : {}),
  };
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

/** Answers one poll request from `source`, a channel's history (undefined: the channel keeps none). */
export async function pollChannel(
  source: PollSource | undefined,
  request: Request,
  options: PollOptions = {},
): Promise<Response> {
  if (!source)
    return text(400, "this channel keeps no history; create it with createChannel({ history: N })");
  const channel = source;
  const url = new URL(request.url);
  const rawTimeout = url.searchParams.get("timeout");
  const timeout = rawTimeout === null ? 25_000 : Number(rawTimeout);
  if (!Number.isSafeInteger(timeout) || timeout < 0) {
    return text(
      400,
      `timeout must be a non-negative integer of milliseconds (got ${JSON.stringify(rawTimeout)})`,
    );
  }
  const wait = Math.min(timeout, options.maxTimeout ?? 30_000);
  const max = options.maxEvents ?? 1000;
  const last = readLastEventId(request.headers.get("last-event-id"), request.url, { prefer: "query" })?.id;
  const current = () => channel.lastEventId ?? "";
  if (last === undefined) return batch([], current(), options, false);
  const answer = async (): Promise<Response | undefined> => {
    const { events, reset } = await source.read(last, max);
    if (reset) return batch(events, events.at(-1)?.id ?? current(), options, true);
    return events.length > 0 ? batch(events, events.at(-1)?.id ?? "", options, false) : undefined;
  };
  // Listen before reading: an event that lands while a shared log is being read still wakes us.
  let wake: () => void = () => {};
  const next = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const cancel = channel.onNextEvent(() => wake());
  let now: Response | undefined;
  try {
    now = await answer();
  } catch (error) {
    cancel();
    return unavailable(error);
  }
  if (now || wait === 0 || channel.isClosed) {
    cancel();
    return now ?? batch([], last === "earliest" ? current() : last, options, false);
  }
  const timer = setTimeout(() => wake(), wait);
  const abort = () => wake();
  request.signal?.addEventListener("abort", abort, { once: true });
  await next;
  clearTimeout(timer);
  cancel();
  request.signal?.removeEventListener("abort", abort);
  try {
    return (await answer()) ?? batch([], last === "earliest" ? current() : last, options, false);
  } catch (error) {
    return unavailable(error);
  }
}

/** The channel's shared log could not be read: the client polls again later with the same id. */
function unavailable(error: unknown): Response {
  const reason = error instanceof Error ? error.message : String(error);
  return new Response(`the channel's history is unreachable now; poll again later (${reason})`, {
    status: 503,
    headers: { "content-type": "text/plain; charset=utf-8", "retry-after": "1" },
  });
}
