/**
 * Batching of appends: one batch at a time is on its way to Redis; the appends made meanwhile are
 * gathered and handed over together when it is answered (the log sends them in one call of its
 * append script), in call order, in batches bounded in count and bytes so that one script never
 * holds Redis for long. Each append keeps its own promise, settled by the sender. Not responsible
 * for talking to Redis.
 */

/** Most entries in one batch. */
export const BATCH_ENTRIES = 500;
/** Most bytes of field names and values in one batch (a larger entry goes alone). */
export const BATCH_BYTES = 1_048_576;

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
  #inFlight = false;

  /** `send` settles every append of the batch it is given; one batch is sent at a time, in order. */
  constructor(send: (batch: readonly PendingAppend[]) => Promise<void>) {
    this.#send = send;
  }

  add(args: readonly (string | Buffer)[], bytes: number, eventId: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.#queue.push({ args, bytes, eventId, resolve, reject });
      if (!this.#scheduled && !this.#inFlight) {
        this.#scheduled = true;
        // Once the code that made this append has run on: appends made together go together.
        queueMicrotask(() => this.#flush());
      }
    });
  }

  /**
   * Sends the next batch unless one is on its way. Appends made while a batch is on its way wait
   * for its answer and then go together: an append alone goes at once (no added latency), and
   * under load the batches grow with the round trip instead of each append paying one. (Waiting
   * for the end of the event loop's turn instead would make an append wait behind whatever that
   * turn does, such as writing an event to thousands of sockets.)
   */
  #flush(): void {
    this.#scheduled = false;
    if (this.#inFlight || this.#queue.length === 0) return;
    let end = 0;
    let bytes = 0;
    while (end < this.#queue.length && end < BATCH_ENTRIES) {
      const next = (this.#queue[end] as PendingAppend).bytes;
      if (end > 0 && bytes + next > BATCH_BYTES) break;
      bytes += next;
      end++;
    }
    const batch = this.#queue.splice(0, end);
    this.#inFlight = true;
    this.#send(batch)
      .catch((error: unknown) => {
        for (const pending of batch) pending.reject(error);
      })
      .finally(() => {
        this.#inFlight = false;
        this.#flush();
      });
  }
}
