/**
 * The in-memory history store: an array in sequence order with an id index, for tests and
 * ephemeral hubs. Lost when the process ends. Not responsible for persistence.
 *
 * Appends are taken in batches as the SQLite store commits them: those made in one turn of the
 * event loop are stored together at its end (`setImmediate`) and resolve then, in call order. So
 * the publishes read in one turn are answered together too, one burst of writes, instead of one
 * write between each request's work, which wakes the publisher's process once per answer.
 */
import { AppendBatch, type PendingAppend, settleBatch } from "./append-batch.js";
import {
  type AfterResult,
  DuplicateIdError,
  type HistoryLimits,
  type Store,
  type StoredUpdate,
  storedUpdate,
  type Update,
  withinBytes,
} from "./transport.js";

export class MemoryStore implements Store {
  #log: StoredUpdate[] = [];
  /** Sequence number -> index is `seq - #firstSeq` because memory sequences are contiguous. */
  #ids = new Map<string, number>();
  #nextSeq = 1;
  /** Appends of this turn of the event loop, stored together by `#store`. */
  readonly #batch = new AppendBatch((batch) => this.#store(batch));
  #onAppended: ((batch: readonly StoredUpdate[]) => void) | undefined;

  constructor(readonly limits: HistoryLimits) {}

  append(update: Update): Promise<StoredUpdate> {
    return this.#batch.add(update);
  }

  onAppended(listener: ((batch: readonly StoredUpdate[]) => void) | undefined): void {
    this.#onAppended = listener;
  }

  /**
   * Stores the batch in call order, hands what was stored to the listener, then settles each
   * append (a duplicate id fails only its own).
   */
  #store(batch: readonly PendingAppend[]): void {
    const time = Date.now();
    const outcomes: (StoredUpdate | DuplicateIdError)[] = [];
    for (const { update } of batch) {
      const taken = this.#ids.get(update.id);
      if (taken !== undefined) {
        outcomes.push(new DuplicateIdError(update.id, this.#log[this.#indexOf(taken)]));
        continue;
      }
      const stored = storedUpdate(update, this.#nextSeq++, time);
      this.#log.push(stored);
      this.#ids.set(stored.id, stored.seq);
      outcomes.push(stored);
    }
    settleBatch(batch, outcomes, this.#onAppended);
    // Keep the count bound without waiting for the background prune, in bulk to stay O(1) amortized.
    if (this.#log.length > this.limits.maxEvents + Math.max(16, this.limits.maxEvents >> 4))
      this.#pruneCount();
  }

  #indexOf(seq: number): number {
    const first = this.#log[0];
    return first === undefined ? 0 : seq - first.seq;
  }

  async after(lastEventId: string, limit: number, maxBytes = Number.POSITIVE_INFINITY): Promise<AfterResult> {
    const seq = lastEventId === "earliest" ? 0 : this.#ids.get(lastEventId);
    if (seq === undefined) return { kind: "unknown-id", updates: await this.afterSeq(0, limit, maxBytes) };
    return { kind: "found", updates: await this.afterSeq(seq, limit, maxBytes) };
  }

  async afterSeq(
    seq: number,
    limit: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<readonly StoredUpdate[]> {
    const start = Math.max(0, this.#indexOf(seq) + 1);
    return withinBytes(this.#log.slice(start, start + limit), maxBytes);
  }

  async lastEventId(): Promise<string> {
    return this.#log.at(-1)?.id ?? "earliest";
  }

  async lastPublicEventId(): Promise<string> {
    for (let i = this.#log.length - 1; i >= 0; i--) {
      const update = this.#log[i];
      if (update !== undefined && !update.private) return update.id;
    }
    return "earliest";
  }

  #pruneCount(): number {
    const excess = this.#log.length - this.limits.maxEvents;
    if (excess <= 0) return 0;
    for (const removed of this.#log.splice(0, excess)) this.#ids.delete(removed.id);
    return excess;
  }

  async prune(now = Date.now()): Promise<number> {
    let removed = this.#pruneCount();
    const cutoff = now - this.limits.maxAgeMs;
    let old = 0;
    while (old < this.#log.length && (this.#log[old]?.time ?? now) < cutoff) old++;
    if (old > 0) {
      for (const gone of this.#log.splice(0, old)) this.#ids.delete(gone.id);
      removed += old;
    }
    return removed;
  }

  async close(): Promise<void> {
    this.#batch.flush();
  }
}
