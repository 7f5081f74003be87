/**
 * Batching of appends: the appends made in one turn of the event loop are gathered and handed
 * over together (the log sends them in one call of its append script), in call order, in batches
 * bounded in count and bytes so that one script never holds Redis for long. Each append keeps its
 * own promise, settled by the sender. Not responsible for talking to Redis.
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

  /** `send` settles every append of the batch it is given; batches are sent in order. */
  constructor(send: (batch: readonly PendingAppend[]) => Promise<void>) {
    this.#send = send;
  }

  add(args: readonly (string | Buffer)[], bytes: number, eventId: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.#queue.push({ args, bytes, eventId, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // After the I/O callbacks of this turn: every request read in it has made its append.
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    let start = 0;
    while (start < queue.length) {
      let end = start;
      let bytes = 0;
      while (end < queue.length && end - start < BATCH_ENTRIES) {
        const next = (queue[end] as PendingAppend).bytes;
        if (end > start && bytes + next > BATCH_BYTES) break;
        bytes += next;
        end++;
      }
      const batch = queue.slice(start, end);
      this.#send(batch).catch((error: unknown) => {
        for (const pending of batch) pending.reject(error);
      });
      start = end;
    }
  }
}
