/**
 * The polling form of a channel with history (docs/polling.md): answers `?poll=1&lastEventID=...`
 * requests with a JSON batch of the events after that id, holding the request open up to
 * `timeout` ms when there are none yet. Web standards only (Request in, Response out).
 */
import { decodeHeaderId } from "../protocol/index.js";
import type { Channel } from "./channel.js";
import type { HistoryEntry } from "./history.js";

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
  entries: readonly HistoryEntry[],
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

/** Answers one poll request from `channel`'s history. */
export async function pollChannel(
  channel: Channel,
  request: Request,
  options: PollOptions = {},
): Promise<Response> {
  const history = channel.history;
  if (!history)
    return text(400, "this channel keeps no history; create it with createChannel({ history: N })");
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
  const header = request.headers.get("last-event-id");
  const last =
    url.searchParams.get("lastEventID") ??
    url.searchParams.get("lastEventId") ??
    (header === null ? null : decodeHeaderId(header));
  const current = () => channel.lastEventId ?? "";
  if (last === null) return batch([], current(), options, false);
  const answer = (): Response | undefined => {
    if (last === "earliest") {
      const all = history.slice(0).slice(0, max);
      return all.length > 0 ? batch(all, all.at(-1)?.id ?? "", options, false) : undefined;
    }
    const result = history.after(last, (id) => (/^[1-9][0-9]{0,15}$/.test(id) ? Number(id) : undefined));
    if (result.kind === "found") {
      const events = result.entries.slice(0, max);
      return events.length > 0 ? batch(events, events.at(-1)?.id ?? "", options, false) : undefined;
    }
    const kept = history.slice(0).slice(0, max);
    return batch(kept, kept.at(-1)?.id ?? current(), options, true);
  };
  const now = answer();
  if (now || wait === 0 || channel.isClosed)
    return now ?? batch([], last === "earliest" ? current() : last, options, false);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, wait);
    const cancel = channel.onNextEvent(done);
    request.signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      cancel();
      request.signal?.removeEventListener("abort", done);
      resolve();
    }
  });
  return answer() ?? batch([], last === "earliest" ? current() : last, options, false);
}
