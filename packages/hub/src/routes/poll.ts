/**
 * `GET /.well-known/mercure?poll=1` (docs/polling.md): a JSON batch of the updates after the last
 * event id that the client may receive, bounded in count and bytes, held up to `timeout` ms when
 * there are none. Not responsible for authorization decisions (it is given the predicate).
 */

import type { Slicer } from "../broker/slices.js";
import { canReceive } from "../domain/auth.js";
import type { StoredUpdate } from "../domain/update.js";
import { HttpError, type HubRequest, type HubResponse } from "../http/http.js";
import { PAGE_BYTES, type Store } from "../transports/transport.js";
import type { RouteContext } from "./context.js";
import { requestedLastEventId, requestedSelectors } from "./selectors.js";

export const POLL_BATCH = 1000;
/** Pages of history scanned for matching updates in one poll before answering with none. */
const MAX_SCAN_PAGES = 20;

export interface PollContext {
  /** Where history is read (the hub's store, which also knows subscription-event ids). */
  readonly store: Pick<Store, "after" | "afterSeq">;
  readonly maxTimeoutMs: number;
  readonly retryMs: number;
  /**
   * Bytes of events one answer carries at most; past them the answer stops early (at least one
   * event, however large) and its `lastEventId` is where the next poll goes on.
   */
  readonly maxBytes: number;
  /** Time slices for the history scan, shared with replays. */
  readonly slicer: Slicer;
  /** Calls `listener` with every update dispatched from now until the returned function is called. */
  listen(listener: (update: StoredUpdate) => void): () => void;
  /** Resolves when the hub starts shutting down. */
  readonly closing: Promise<void>;
}

interface PollEvent {
  readonly type: string;
  readonly data: string;
  readonly id: string;
}

const toEvent = (u: StoredUpdate): PollEvent => ({ type: u.type ?? "message", data: u.data, id: u.id });

/**
 * The events of one answer, serialized one by one as they are chosen so that the answer's size is
 * known (and bounded) before it is built: never one JSON.stringify of an unbounded batch.
 */
class Batch {
  readonly parts: string[] = [];
  #bytes = 0;
  #lastId: string | undefined;
  constructor(readonly maxBytes: number) {}
  get size(): number {
    return this.parts.length;
  }
  get lastId(): string | undefined {
    return this.#lastId;
  }
  /** True when no more events fit (the byte bound, or POLL_BATCH events). */
  get full(): boolean {
    return this.parts.length >= POLL_BATCH || this.#bytes >= this.maxBytes;
  }
  /** Adds `update` unless the answer is full; the first event always fits, however large. */
  add(update: StoredUpdate): boolean {
    if (this.full) return false;
    const part = JSON.stringify(toEvent(update));
    const bytes = Buffer.byteLength(part);
    if (this.parts.length > 0 && this.#bytes + bytes > this.maxBytes) {
      this.#bytes = this.maxBytes;
      return false;
    }
    this.parts.push(part);
    this.#bytes += bytes;
    this.#lastId = update.id;
    return true;
  }
}

function timeoutOf(query: URLSearchParams, max: number): number {
  const text = query.get("timeout");
  if (text === null) return Math.min(25_000, max);
  if (!/^[0-9]{1,9}$/.test(text))
    throw new HttpError(400, `"timeout" must be a non-negative integer of milliseconds (got "${text}")`);
  return Math.min(Number(text), max);
}

export async function answerPoll(
  context: PollContext,
  req: HubRequest,
  res: HubResponse,
  query: URLSearchParams,
  accepts: (update: StoredUpdate) => boolean,
  /** The id a poll without a last event id starts after (the newest this client may know of). */
  newestId: () => Promise<string>,
): Promise<void> {
  const timeout = timeoutOf(query, context.maxTimeoutMs);
  const lastEventId = requestedLastEventId(req, "query");
  const answer = (batch: Batch, last: string, reset: boolean) => {
    const tail = JSON.stringify({
      lastEventId: batch.lastId ?? last,
      retry: context.retryMs,
      ...(reset ? { reset: true } : {}),
    });
    const body = `{"events":[${batch.parts.join(",")}],${tail.slice(1)}`;
    res.writeHead(200, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
    });
    res.end(body);
  };
  const batch = new Batch(context.maxBytes);
  if (lastEventId === undefined) {
    answer(batch, await newestId(), false);
    return;
  }

  const live: StoredUpdate[] = [];
  let wake: (() => void) | undefined;
  const stop = context.listen((update) => {
    if (!accepts(update)) return;
    live.push(update);
    wake?.();
  });
  try {
    const first = await context.store.after(lastEventId, POLL_BATCH, PAGE_BYTES);
    const reset = first.kind === "unknown-id";
    let page = first.updates;
    let scannedSeq = 0;
    let scannedId = reset ? await newestId() : lastEventId;
    if (reset && page.length === 0) scannedId = "earliest";
    const slice = context.slicer.slice();
    scan: for (let pages = 0; pages < MAX_SCAN_PAGES; pages++) {
      for (const update of page) {
        if (accepts(update) && !batch.add(update)) break scan;
        scannedSeq = update.seq;
        scannedId = update.id;
        if (batch.full) break scan;
        if (slice.spent(4)) {
          await slice.next();
          if (res.destroyed) return;
        }
      }
      if (batch.size > 0 || page.length === 0) break;
      await slice.next();
      if (res.destroyed) return;
      page = await context.store.afterSeq(scannedSeq, POLL_BATCH, PAGE_BYTES);
    }
    if (batch.size > 0 || timeout === 0) {
      answer(batch, scannedId, reset);
      return;
    }
    const fresh = () => live.filter((u) => u.seq > scannedSeq);
    if (fresh().length === 0) {
      await new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          res.off("close", finish);
          resolve();
        };
        const timer = setTimeout(finish, timeout);
        wake = finish;
        res.once("close", finish);
        void context.closing.then(finish);
      });
    }
    if (res.writableEnded || res.destroyed) return;
    for (const update of fresh()) if (!batch.add(update)) break;
    answer(batch, scannedId, reset);
  } finally {
    stop();
  }
}

/** `GET /.well-known/mercure?poll=1`: authenticates, then answers from the broker's history and live updates. */
export async function pollRoute(
  context: RouteContext,
  req: HubRequest,
  res: HubResponse,
  url: URL,
): Promise<void> {
  const { broker, config } = context;
  const selectors = requestedSelectors(url.searchParams);
  const rights = await context.authenticate.subscriber(req, url.searchParams, { anonymous: true });
  await answerPoll(
    {
      store: {
        after: (id, limit, maxBytes) => broker.after(id, limit, maxBytes),
        afterSeq: (seq, limit, maxBytes) => broker.afterSeq(seq, limit, maxBytes),
      },
      maxTimeoutMs: config.maxPollTimeoutMs,
      retryMs: config.retryMs,
      maxBytes: config.maxPollBytes,
      slicer: broker.slicer,
      closing: context.closing,
      listen: (listener) => broker.listen(listener),
    },
    req,
    res,
    url.searchParams,
    (update) => canReceive(update, selectors, rights),
    () => broker.newestPublicId(),
  );
  context.metrics.polls.inc();
}
