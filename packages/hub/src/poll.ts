/**
 * The long-polling form of a subscription (docs/polling.md): `GET /.well-known/mercure?poll=1`
 * answers a JSON batch of the updates after the client's last event id that it may receive,
 * holding the request up to `timeout` ms when there are none. Live updates are listened to before
 * history is read, so nothing published in between is missed. Not responsible for authorization
 * decisions (it uses the subscriber's `accepts`-style predicate it is given).
 */
import { decodeHeaderId } from "ssekit/protocol";
import { HttpError, type HubRequest, type HubResponse, sendJson } from "./http.js";
import { checkedLastEventId } from "./selectors.js";
import type { Store, StoredUpdate } from "./stores/store.js";

export const POLL_BATCH = 1000;
/** Pages of history scanned for matching updates in one poll before answering with none. */
const MAX_SCAN_PAGES = 20;

export interface PollContext {
  readonly store: Store;
  readonly maxTimeoutMs: number;
  readonly retryMs: number;
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

/** The poll's last event id: the query wins over the header (docs/polling.md). */
function lastEventIdOf(req: HubRequest, query: URLSearchParams): string | undefined {
  for (const name of ["lastEventID", "last_event_id"]) {
    const value = query.get(name);
    if (value !== null && value !== "") return checkedLastEventId(name, value);
  }
  const header = req.headers["last-event-id"];
  return typeof header === "string" && header !== "" ? decodeHeaderId(header) : undefined;
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
): Promise<void> {
  const timeout = timeoutOf(query, context.maxTimeoutMs);
  const lastEventId = lastEventIdOf(req, query);
  const answer = (events: readonly StoredUpdate[], last: string, reset: boolean) => {
    sendJson(res, 200, {
      events: events.map(toEvent),
      lastEventId: events.at(-1)?.id ?? last,
      retry: context.retryMs,
      ...(reset ? { reset: true } : {}),
    });
  };
  if (lastEventId === undefined) {
    answer([], await context.store.lastEventId(), false);
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
    const first = await context.store.after(lastEventId, POLL_BATCH);
    const reset = first.kind === "unknown-id";
    let page = first.updates;
    let scannedSeq = 0;
    let scannedId = reset ? await context.store.lastEventId() : lastEventId;
    if (reset && page.length === 0) scannedId = "earliest";
    const found: StoredUpdate[] = [];
    for (let pages = 0; pages < MAX_SCAN_PAGES; pages++) {
      for (const update of page) {
        scannedSeq = update.seq;
        scannedId = update.id;
        if (accepts(update)) {
          found.push(update);
          if (found.length === POLL_BATCH) break;
        }
      }
      if (found.length > 0 || page.length < POLL_BATCH) break;
      page = await context.store.afterSeq(scannedSeq, POLL_BATCH);
    }
    if (found.length > 0 || timeout === 0) {
      answer(found, scannedId, reset);
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
    answer(fresh().slice(0, POLL_BATCH), scannedId, reset);
  } finally {
    stop();
  }
}
