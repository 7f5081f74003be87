/**
 * Replaying history to one subscriber after its last event id: page by page from the store, in
 * time slices (slices.ts) so that no replay holds the event loop, and at the pace the client
 * reads: once the socket holds `replayHighWater` unflushed bytes the replay waits for them to
 * drain, so a replay of any size reaches a client that reads (the slow-consumer bound is for
 * clients that stop reading). Not responsible for which updates the subscriber may receive
 * (`Subscriber.accepts`) or for live updates held meanwhile (subscriber.ts).
 */

import type { StoredUpdate } from "../domain/update.js";
import { PAGE_BYTES, type Store } from "../transports/transport.js";
import type { Slicer } from "./slices.js";
import type { Subscriber } from "./subscriber.js";

/** Updates read from the store at a time (and at most PAGE_BYTES of their data). */
export const REPLAY_PAGE = 1000;

/** Writes `first` and every later page of history to `subscriber`; resolves when done or closed. */
export async function replayHistory(
  store: Pick<Store, "afterSeq">,
  slicer: Slicer,
  subscriber: Subscriber,
  first: readonly StoredUpdate[],
): Promise<void> {
  const slice = slicer.slice();
  let page = first;
  while (page.length > 0) {
    for (const update of page) {
      if (subscriber.closed) return;
      subscriber.replayOne(update);
      if (subscriber.mustWait()) {
        await subscriber.drained();
        await slice.next();
      } else if (slice.spent(4)) {
        await slice.next();
      }
    }
    const last = page.at(-1);
    if (last === undefined) return;
    // Reading a page from an embedded store is synchronous underneath: a turn between pages.
    await slice.next();
    page = await store.afterSeq(last.seq, REPLAY_PAGE, PAGE_BYTES);
  }
}
