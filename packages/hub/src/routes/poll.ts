/**
 * `GET /.well-known/mercure?poll=1` (docs/polling.md): ssekit/server's poll responder over the
 * broker's history and live updates, filtered by what the subscriber may receive, bounded by
 * `maxPollBytes`, scanning in the broker's time slices. Not responsible for authorization
 * decisions (it is given the predicate) or for the answer's shape (`pollBody`).
 */

import {
  POLL_HEADERS,
  type PollBatch,
  type PolledEvent,
  type PollSource,
  pollBody,
  SseServerError,
} from "ssekit/server";
import type { Broker } from "../broker/broker.js";
import { canReceive } from "../domain/auth.js";
import type { StoredUpdate } from "../domain/update.js";
import { HttpError, type HubRequest, type HubResponse } from "../http/http.js";
import type { RouteContext } from "./context.js";
import { requestedLastEventId, requestedSelectors } from "./selectors.js";

/** Updates per answer, and per page of history read. */
const POLL_BATCH = 1000;
/** Pages of history scanned for matching updates in one poll before answering with none. */
const MAX_SCAN_PAGES = 20;

/** An update as the responder sees it, with the update itself for the authorization filter. */
interface PolledUpdate extends PolledEvent {
  readonly update: StoredUpdate;
}

const polled = (update: StoredUpdate): PolledUpdate => ({
  event: update.type,
  data: update.data,
  id: update.id,
  update,
});

/**
 * One poll's view of the broker: pages of history (going on by sequence number after the page it
 * read last), the newest public id, and a wake at the next update the subscriber may receive or at
 * the hub's shutdown.
 */
class BrokerPollSource implements PollSource<PolledUpdate> {
  readonly #broker: Broker;
  readonly #accepts: (update: StoredUpdate) => boolean;
  readonly #closing: AbortSignal;
  /** The newest update read: a read that goes on after it reads by sequence number. */
  #newest: StoredUpdate | undefined;

  constructor(broker: Broker, accepts: (update: StoredUpdate) => boolean, closing: AbortSignal) {
    this.#broker = broker;
    this.#accepts = accepts;
    this.#closing = closing;
  }

  get isClosed(): boolean {
    return this.#closing.aborted;
  }

  current(): Promise<string> {
    return this.#broker.newestPublicId();
  }

  async read(last: string, max: number): Promise<PollBatch<PolledUpdate>> {
    let page: readonly StoredUpdate[];
    let reset = false;
    if (this.#newest !== undefined && this.#newest.id === last) {
      page = await this.#broker.afterSeq(this.#newest.seq, max);
    } else {
      const result = await this.#broker.after(last, max);
      reset = result.kind === "unknown-id";
      page = result.updates;
    }
    this.#newest = page.at(-1) ?? this.#newest;
    return { events: page.map(polled), reset };
  }

  onNextEvent(wake: () => void): () => void {
    const closing = this.#closing;
    const stop = () => {
      unlisten();
      closing.removeEventListener("abort", fire);
    };
    const fire = () => {
      stop();
      wake();
    };
    const unlisten = this.#broker.listen((update) => {
      if (this.#accepts(update)) fire();
    });
    closing.addEventListener("abort", fire, { once: true });
    return stop;
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
  const accepts = (update: StoredUpdate) => canReceive(update, selectors, rights);
  const lastEventId = requestedLastEventId(req, "query");
  const left = new AbortController();
  res.once("close", () => left.abort());
  let body: string;
  try {
    body = await pollBody(
      new BrokerPollSource(broker, accepts, context.closing),
      { lastEventId, timeout: url.searchParams.get("timeout"), signal: left.signal },
      {
        maxEvents: POLL_BATCH,
        maxTimeout: config.maxPollTimeoutMs,
        retry: config.retryMs,
        maxBytes: config.maxPollBytes,
        filter: (event) => accepts(event.update),
        maxReads: MAX_SCAN_PAGES,
        turn: () => broker.slicer.turn(),
      },
    );
  } catch (error) {
    if (error instanceof SseServerError && error.code === "INVALID_REQUEST")
      throw new HttpError(400, error.message);
    throw error;
  }
  if (!(res.writableEnded || res.destroyed)) {
    res.writeHead(200, { ...POLL_HEADERS, "content-length": Buffer.byteLength(body) });
    res.end(body);
  }
  context.metrics.polls.inc();
}
