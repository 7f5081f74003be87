/**
 * The responder of the polling protocol (docs/polling.md): the JSON batch of the events after the
 * client's last event id, read through a `PollSource` (a channel's ring, a bus's log, the hub's
 * store), bounded in count and bytes, scanned in time slices, held up to `timeout` ms when there
 * are none. Web standards only. Not responsible for where events come from or who may see them
 * (the source and the `filter` option decide).
 */
import { checkNonNegativeInteger, SseServerError } from "./errors.js";
import { readLastEventId } from "./request.js";

/** What a poll answers with of an event: the fields a channel's history keeps. */
export interface PolledEvent {
  readonly event: string | undefined;
  readonly data: string;
  readonly id: string | undefined;
}

/** What one read of a poll source returns. */
export interface PollBatch<E extends PolledEvent = PolledEvent> {
  /** Oldest first, at most the `max` asked for; none when there is nothing after the id. */
  readonly events: readonly E[];
  /** The id asked for could not be resumed exactly: `events` are the oldest kept. */
  readonly reset: boolean;
}

/** Where a poll reads events: a channel's history, a shared log, a store of your own. */
export interface PollSource<E extends PolledEvent = PolledEvent> {
  /** True once no event will come any more (a held poll is then answered). */
  readonly isClosed: boolean;
  /** Where a client that has seen nothing yet starts: the newest event's id (`"earliest"` or `""` when none). */
  current(): string | Promise<string>;
  /**
   * Events after the one with id `last` (`"earliest"`: from the oldest kept), oldest first. A poll
   * reads on from the id of the last event it was given. A rejection answers the poll with it.
   */
  read(last: string, max: number): PollBatch<E> | Promise<PollBatch<E>>;
  /**
   * Calls `wake` once at the next event or at close; returns a function that cancels. A source
   * may skip events it knows the poll does not want; a wake for an event the poll does not want
   * only costs a read.
   */
  onNextEvent(wake: () => void): () => void;
}

export interface PollOptions<E extends PolledEvent = PolledEvent> {
  /** Most events per response, and per read of the source. Default: 1000. */
  readonly maxEvents?: number;
  /** Cap on the `timeout` a client may ask for, in ms. Default: 30000. */
  readonly maxTimeout?: number;
  /** `retry` hint in the response, in ms. Default: none. */
  readonly retry?: number;
  /**
   * UTF-8 bytes of events one response carries at most; past them it stops early (at least one
   * event, however large) and its `lastEventId` is where the next poll goes on. Default: no bound.
   */
  readonly maxBytes?: number;
  /** Which events this client gets (for example by its rights); the others are skipped. Default: all. */
  readonly filter?: (event: E) => boolean;
  /**
   * Reads of the source one poll makes looking for an event that passes `filter`; past them it
   * answers at once with no events and the id it reached, where the client's next poll goes on.
   * Default: 20.
   */
  readonly maxReads?: number;
  /**
   * How a long scan gives the event loop back (every 5 ms, and between reads): resolves when it
   * may go on. Default: the next turn of the event loop (`setImmediate`). A server with many long
   * loops can pass its own queue so that they take turns.
   */
  readonly turn?: () => Promise<void>;
}

/** One poll request, read from whatever HTTP API the server has. */
export interface PollRequest {
  /** The id the client has seen last (`readLastEventId(header, url, { prefer: "query" })`); undefined on a first poll. */
  readonly lastEventId: string | undefined;
  /** The `timeout` query parameter as sent; null when absent (then 25000, capped by `maxTimeout`). */
  readonly timeout: string | null;
  /** Aborted when the client goes away: a held or scanning poll then stops and answers what it has. */
  readonly signal?: AbortSignal | undefined;
}

/** The headers of a poll's `200` answer (with `pollBody`; `pollResponse` sets them itself). */
export const POLL_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
});

/** A scan runs this long before it gives the event loop back. */
const SLICE_MS = 5;
/** Events scanned between two looks at the clock. */
const CHECK_EVERY = 4;

/** The next turn of the event loop (after I/O), where `setImmediate` exists. */
const nextTurn = (): Promise<void> =>
  new Promise((resolve) =>
    typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0),
  );

/** Counts UTF-8 bytes without encoding (JSON text: no lone surrogates), where `Buffer` is missing. */
export function countUtf8(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, for the fast path.
  if (!/[^\u0000-\u007f]/.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** UTF-8 bytes of a text: Node's and Bun's native count (3x faster), else counted here. */
const utf8Length: (text: string) => number =
  typeof Buffer === "function" ? (text) => Buffer.byteLength(text, "utf8") : countUtf8;

/**
 * The body of one answer, each event serialized as it is chosen so that the size is known (and
 * bounded) before the body is built: never one JSON.stringify of an unbounded batch.
 */
class PollAnswer {
  readonly #parts: string[] = [];
  #bytes = 0;
  #lastId: string | undefined;
  constructor(
    readonly maxEvents: number,
    readonly maxBytes: number,
  ) {}
  get size(): number {
    return this.#parts.length;
  }
  /** True when no more events fit. */
  get full(): boolean {
    return this.#parts.length >= this.maxEvents || this.#bytes >= this.maxBytes;
  }
  /** Adds `event` unless the answer is full; the first event always fits, however large. */
  add(event: PolledEvent): boolean {
    if (this.full) return false;
    const part = JSON.stringify({ type: event.event ?? "message", data: event.data, id: event.id });
    if (this.maxBytes !== Number.POSITIVE_INFINITY) {
      const bytes = utf8Length(part);
      if (this.#parts.length > 0 && this.#bytes + bytes > this.maxBytes) {
        this.#bytes = this.maxBytes;
        return false;
      }
      this.#bytes += bytes;
    }
    this.#parts.push(part);
    this.#lastId = event.id;
    return true;
  }
  /** The JSON text; `lastEventId` is the last event's id, else `position`. */
  body(position: string, retry: number | undefined, reset: boolean): string {
    const tail = JSON.stringify({
      lastEventId: this.#lastId ?? position,
      ...(retry !== undefined ? { retry } : {}),
      ...(reset ? { reset: true } : {}),
    });
    return `{"events":[${this.#parts.join(",")}],${tail.slice(1)}`;
  }
}

/** `timeout` in ms, as docs/polling.md has it: digits only. */
function timeoutOf(text: string | null, max: number): number {
  if (text === null) return Math.min(25_000, max);
  if (!/^[0-9]{1,9}$/.test(text))
    throw new SseServerError(
      "INVALID_REQUEST",
      `"timeout" must be a non-negative integer of milliseconds (got "${text}")`,
    );
  return Math.min(Number(text), max);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  checkNonNegativeInteger(name, value);
  if (value === 0) throw new SseServerError("INVALID_OPTION", `${name} must be at least 1 (got 0)`);
  return value ?? fallback;
}

/** One poll in progress: where its scan has reached, and the answer so far. */
class Poll<E extends PolledEvent> {
  readonly #source: PollSource<E>;
  readonly #answer: PollAnswer;
  readonly #filter: ((event: E) => boolean) | undefined;
  readonly #maxReads: number;
  readonly #turn: () => Promise<void>;
  readonly #signal: AbortSignal | undefined;
  /** The id of the last event scanned (whether it passed the filter or not). */
  position: string;
  reset = false;
  /** The scan stopped at `maxReads` with more to read: answer now, the client goes on from `position`. */
  limited = false;

  constructor(
    source: PollSource<E>,
    answer: PollAnswer,
    last: string,
    options: PollOptions<E> & { readonly maxReads: number },
    signal: AbortSignal | undefined,
  ) {
    this.#source = source;
    this.#answer = answer;
    this.#filter = options.filter;
    this.#maxReads = options.maxReads;
    this.#turn = options.turn ?? nextTurn;
    this.#signal = signal;
    this.position = last;
  }

  /** Reads from `position` until an event passes the filter, the source has no more, or `maxReads`. */
  async scan(first: boolean): Promise<void> {
    const answer = this.#answer;
    const max = answer.maxEvents;
    let page = await this.#source.read(this.position, max);
    if (first && page.reset) {
      this.reset = true;
      this.position = "earliest";
    }
    let started = performance.now();
    let count = 0;
    for (let reads = 1; ; reads++) {
      for (const event of page.events) {
        if ((this.#filter === undefined || this.#filter(event)) && !answer.add(event)) return;
        if (event.id !== undefined) this.position = event.id;
        if (answer.full) return;
        if (++count % CHECK_EVERY === 0 && performance.now() - started >= SLICE_MS) {
          await this.#turn();
          if (this.#signal?.aborted) return;
          started = performance.now();
        }
      }
      if (answer.size > 0 || page.events.length === 0) return;
      if (reads >= this.#maxReads) {
        this.limited = true;
        return;
      }
      await this.#turn();
      if (this.#signal?.aborted) return;
      started = performance.now();
      page = await this.#source.read(this.position, max);
    }
  }
}

/** Resolves after `ms`, at `signal`'s abort, or when the `stop` handed to `interrupt` is called. */
function hold(
  ms: number,
  signal: AbortSignal | undefined,
  interrupt: (stop: () => void) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
      resolve();
    };
    const timer = setTimeout(stop, ms);
    signal?.addEventListener("abort", stop, { once: true });
    interrupt(stop);
  });
}

/**
 * Answers one poll from `source`: the JSON text of docs/polling.md's response, for a `200` with
 * `POLL_HEADERS` (the caller writes it, on any HTTP API). With no events to give it waits, up to
 * the request's `timeout`, for the next one. Throws `SseServerError` `"INVALID_REQUEST"` for a bad
 * `timeout` (answer `400` with its message), and what the source throws (the events cannot be
 * read now: `503`).
 */
export async function pollBody<E extends PolledEvent>(
  source: PollSource<E>,
  request: PollRequest,
  options: PollOptions<E> = {},
): Promise<string> {
  const maxEvents = positive("maxEvents", options.maxEvents, 1000);
  const maxReads = positive("maxReads", options.maxReads, 20);
  checkNonNegativeInteger("maxTimeout", options.maxTimeout);
  checkNonNegativeInteger("retry", options.retry);
  if (options.maxBytes !== undefined) checkNonNegativeInteger("maxBytes", options.maxBytes);
  const wait = timeoutOf(request.timeout, options.maxTimeout ?? 30_000);
  const answer = new PollAnswer(maxEvents, options.maxBytes ?? Number.POSITIVE_INFINITY);
  if (request.lastEventId === undefined) return answer.body(await source.current(), options.retry, false);

  const signal = request.signal;
  const poll = new Poll(source, answer, request.lastEventId, { ...options, maxReads }, signal);
  let woken = false;
  let notify: (() => void) | undefined;
  const wake = () => {
    woken = true;
    notify?.();
  };
  // Listen before reading: an event that lands while the source is read still wakes the poll.
  let cancel = source.onNextEvent(wake);
  try {
    await poll.scan(true);
    const deadline = performance.now() + wait;
    while (answer.size === 0 && !poll.limited && !source.isClosed && signal?.aborted !== true) {
      if (!woken) {
        const left = deadline - performance.now();
        if (left <= 0) break;
        await hold(left, signal, (stop) => {
          notify = stop;
        });
        notify = undefined;
        if (!woken) break;
      }
      woken = false;
      cancel();
      cancel = source.onNextEvent(wake);
      await poll.scan(false);
    }
    return answer.body(poll.position, options.retry, poll.reset);
  } finally {
    cancel();
  }
}

/**
 * Answers one poll `Request` from `source` with a `Response` (Web standards: Hono, Next.js route
 * handlers, Bun, Deno): `200` JSON, `400` for a bad `timeout`, `503` when the source cannot be
 * read now. The last event id is read as `readLastEventId` does, the query first.
 */
export async function pollResponse<E extends PolledEvent>(
  source: PollSource<E>,
  request: Request,
  options: PollOptions<E> = {},
): Promise<Response> {
  const lastEventId = readLastEventId(request.headers.get("last-event-id"), request.url, {
    prefer: "query",
  })?.id;
  const timeout = new URL(request.url).searchParams.get("timeout");
  try {
    const body = await pollBody(source, { lastEventId, timeout, signal: request.signal }, options);
    return new Response(body, { status: 200, headers: POLL_HEADERS });
  } catch (error) {
    if (error instanceof SseServerError && error.code === "INVALID_REQUEST")
      return pollRefusal(400, error.message);
    if (error instanceof SseServerError && error.code === "INVALID_OPTION") throw error;
    return unavailable(error);
  }
}

/** A refused poll: `status` with a one-line text reason. */
export function pollRefusal(status: number, reason: string): Response {
  return new Response(reason, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** The source could not be read: the client polls again later with the same id. */
function unavailable(error: unknown): Response {
  const reason = error instanceof Error ? error.message : String(error);
  return new Response(`the channel's history is unreachable now; poll again later (${reason})`, {
    status: 503,
    headers: { "content-type": "text/plain; charset=utf-8", "retry-after": "1" },
  });
}
