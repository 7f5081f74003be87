/**
 * Replaying history to one subscriber after its last event id: the updates it may receive, page
 * by page from the store, in time slices (slices.ts) so that no replay holds the event loop. The
 * pace of the client (waiting for it to read) is ssekit/server's `replay`. Not responsible for
 * which updates the subscriber may receive (`Subscriber.accepts`) or for live updates held meanwhile.
 */

import type { Framed } from "ssekit/server";
import type { StoredUpdate } from "../domain/update.js";
import { PAGE_BYTES, type Store } from "../transports/transport.js";
import type { Slicer } from "./slices.js";
import type { Subscriber } from "./subscriber.js";

/** Updates read from the store at a time (and at most PAGE_BYTES of their data). */
export const REPLAY_PAGE = 1000;

/** Writes `first` and every later page of history to `subscriber`; resolves when done or closed. */
export function replayHistory(
  store: Pick<Store, "afterSeq">,
  slicer: Slicer,
  subscriber: Subscriber,
  first: readonly StoredUpdate[],
): Promise<void> {
  return subscriber.replay(historyFrames(store, slicer, subscriber, first));
}

async function* historyFrames(
  store: Pick<Store, "afterSeq">,
  slicer: Slicer,
  subscriber: Subscriber,
  first: readonly StoredUpdate[],
): AsyncGenerator<Framed> {
  const slice = slicer.slice();
  let page = first;
  while (page.length > 0) {
    for (const update of page) {
      if (subscriber.closed) return;
      const frame = subscriber.historyFrame(update);
      if (frame !== undefined) yield frame;
      if (slice.spent(4)) await slice.next();
    }
    const last = page.at(-1);
    if (last === undefined) return;
    // Reading a page from an embedded store is synchronous underneath: a turn between pages.
    await slice.next();
    page = await store.afterSeq(last.seq, REPLAY_PAGE, PAGE_BYTES);
  }
}
