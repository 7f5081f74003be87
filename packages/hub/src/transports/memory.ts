/**
 * The in-memory history store: an array in sequence order with an id index, for tests and
 * ephemeral hubs. Lost when the process ends. Not responsible for persistence.
 */
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

  constructor(readonly limits: HistoryLimits) {}

  async append(update: Update): Promise<StoredUpdate> {
    const taken = this.#ids.get(update.id);
    if (taken !== undefined) throw new DuplicateIdError(update.id, this.#log[this.#indexOf(taken)]);
    const stored = storedUpdate(update, this.#nextSeq++, Date.now());
    this.#log.push(stored);
    this.#ids.set(stored.id, stored.seq);
    // Keep the count bound without waiting for the background prune, in bulk to stay O(1) amortized.
    if (this.#log.length > this.limits.maxEvents + Math.max(16, this.limits.maxEvents >> 4))
      this.#pruneCount();
    return stored;
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

  async close(): Promise<void> {}
}
