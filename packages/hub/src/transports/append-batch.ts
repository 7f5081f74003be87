/**
 * The appends asked of a local store in one turn of the event loop, handed to it together at the
 * end of that turn (`setImmediate`): the publishes read in one turn are stored, and answered, in
 * one burst. Not responsible for storing them: the store's function settles each, in call order.
 */
import type { StoredUpdate, Update } from "./transport.js";

/** An append waiting for the end of the turn. */
export interface PendingAppend {
  readonly update: Update;
  readonly resolve: (stored: StoredUpdate) => void;
  readonly reject: (error: unknown) => void;
}

export class AppendBatch {
  #pending: PendingAppend[] = [];
  readonly #store: (batch: readonly PendingAppend[]) => void;
  readonly #flushPending = () => this.flush();

  constructor(store: (batch: readonly PendingAppend[]) => void) {
    this.#store = store;
  }

  add(update: Update): Promise<StoredUpdate> {
    return new Promise((resolve, reject) => {
      if (this.#pending.push({ update, resolve, reject }) === 1) setImmediate(this.#flushPending);
    });
  }

  /** Hands over what is pending now (at the end of the turn, or when the store closes). */
  flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#store(batch);
  }
}
