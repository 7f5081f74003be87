/**
 * Batching of appends: at most two batches at a time are on their way to Redis; the appends made
 * meanwhile are gathered and handed over together when one is answered (the log sends them in one
 * call of its append script), in call order, in batches bounded in count and bytes so that one
 * script never holds Redis for long. Each append keeps its own promise, settled by the sender. Not
 * responsible for talking to Redis (the sender keeps batches in order on one connection).
 */

/** Most entries in one batch. */
export const BATCH_ENTRIES = 500;
/** Most bytes of field names and values in one batch (a larger entry goes alone). */
export const BATCH_BYTES = 1_048_576;

/**
 * Most batches on their way at once. Two, so that an append made while a batch waits for its
 * answer goes at once instead of a round trip later: on a busy event loop that answer is read only
 * on the loop's next turn, after whatever it does meanwhile (such as writing the previous batch's
 * events to thousands of sockets), which made such an append wait a whole turn before being sent.
 * Under heavier load the third and later appends wait, and batches still grow with the round trip.
 */
export const BATCHES_IN_FLIGHT = 2;

/** One append waiting for its batch to be sent and answered. */
export interface PendingAppend {
  /** field, value, field, value, ... */
  readonly args: readonly (string | Buffer)[];
  readonly bytes: number;
  /** The value of the indexed field ("" when none), for a duplicate's error. */
  readonly eventId: string;
  resolve(entryId: string): void;
  reject(error: unknown): void;
}

export class Batcher {
  readonly #send: (batch: readonly PendingAppend[]) => Promise<void>;
  #queue: PendingAppend[] = [];
  #scheduled = false;
  #inFlight = 0;

  /**
   * `send` settles every append of the batch it is given; batches are handed to it in call order,
   * at most `BATCHES_IN_FLIGHT` unsettled at once.
   */
  constructor(send: (batch: readonly PendingAppend[]) => Promise<void>) {
    this.#send = send;
  }

  add(args: readonly (string | Buffer)[], bytes: number, eventId: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.#queue.push({ args, bytes, eventId, resolve, reject });
      if (!this.#scheduled && this.#inFlight < BATCHES_IN_FLIGHT) {
        this.#scheduled = true;
        // Once the code that made this append has run on: appends made together go together.
        queueMicrotask(() => this.#flush());
      }
    });
  }

  /**
   * Sends the next batch unless `BATCHES_IN_FLIGHT` are on their way. Appends made while they are
   * wait for an answer and then go together: an append alone goes at once (no added latency), and
   * under load the batches grow with the round trip instead of each append paying one. (Waiting
   * for the end of the event loop's turn instead would make an append wait behind whatever that
   * turn does, such as writing an event to thousands of sockets.)
   */
  #flush(): void {
    this.#scheduled = false;
    if (this.#inFlight >= BATCHES_IN_FLIGHT || this.#queue.length === 0) return;
    let end = 0;
    let bytes = 0;
    while (end < this.#queue.length && end < BATCH_ENTRIES) {
      const next = (this.#queue[end] as PendingAppend).bytes;
      if (end > 0 && bytes + next > BATCH_BYTES) break;
      bytes += next;
      end++;
    }
    const batch = this.#queue.splice(0, end);
    this.#inFlight++;
    this.#send(batch)
      .catch((error: unknown) => {
        for (const pending of batch) pending.reject(error);
      })
      .finally(() => {
        this.#inFlight--;
        this.#flush();
      });
  }
}
