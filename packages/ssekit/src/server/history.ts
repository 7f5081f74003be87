/**
 * A bounded ring of a channel's recent events, for replay to clients that reconnect with a
 * `Last-Event-ID`. It stores each event's encoded bytes (written as-is on replay) and its fields
 * (for filters and polling). It assigns nothing and writes nothing; the channel does both.
 */

/** The comments written on replay when the id cannot be resumed exactly. */
export const TRUNCATED_COMMENT = "ssekit history-truncated";
export const UNKNOWN_ID_COMMENT = "ssekit unknown-last-event-id";

export interface HistoryEntry {
  /** The channel's sequence number of the event, increasing by one per event. */
  readonly seq: number;
  readonly id: string;
  readonly event: string | undefined;
  readonly data: string;
  readonly bytes: Uint8Array;
}

/** What a `Last-Event-ID` resolves to. */
export type ReplayResult =
  /** The id is in the ring: `entries` are exactly the events after it (possibly none). */
  | { readonly kind: "found"; readonly entries: readonly HistoryEntry[] }
  /** The id was assigned by this channel but has left the ring: `entries` is all that is kept. */
  | { readonly kind: "too-old"; readonly entries: readonly HistoryEntry[] }
  /** The id is not one this channel knows. */
  | { readonly kind: "unknown" };

export class History {
  readonly capacity: number;
  #ring: (HistoryEntry | undefined)[];
  #start = 0;
  #length = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#ring = new Array<HistoryEntry | undefined>(capacity);
  }

  get length(): number {
    return this.#length;
  }

  push(entry: HistoryEntry): void {
    if (this.capacity === 0) return;
    if (this.#length < this.capacity) {
      this.#ring[(this.#start + this.#length) % this.capacity] = entry;
      this.#length++;
    } else {
      this.#ring[this.#start] = entry;
      this.#start = (this.#start + 1) % this.capacity;
    }
  }

  at(index: number): HistoryEntry | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#ring[(this.#start + index) % this.capacity];
  }

  newest(): HistoryEntry | undefined {
    return this.at(this.#length - 1);
  }

  /** All kept entries from index `from` on, oldest first. */
  slice(from: number): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (let i = Math.max(0, from); i < this.#length; i++) {
      const entry = this.at(i);
      if (entry) out.push(entry);
    }
    return out;
  }

  /**
   * The events after `lastEventId`. Ids are matched newest first, so a repeated id means its
   * latest use. `ownId` tells whether an id has the form this channel assigns (its sequence
   * number), which lets an evicted id be told apart from a foreign one.
   */
  after(lastEventId: string, ownSeq: (id: string) => number | undefined): ReplayResult {
    for (let i = this.#length - 1; i >= 0; i--) {
      if (this.at(i)?.id === lastEventId) return { kind: "found", entries: this.slice(i + 1) };
    }
    const seq = ownSeq(lastEventId);
    const oldest = this.at(0);
    if (seq !== undefined && oldest !== undefined && seq < oldest.seq) {
      return { kind: "too-old", entries: this.slice(0) };
    }
    return { kind: "unknown" };
  }
}
