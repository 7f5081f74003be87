/**
 * The appends asked of a local store in one turn of the event loop, handed to it together at the
 * end of that turn (`setImmediate`): the publishes read in one turn are stored, and answered, in
 * one burst; and how a store settles them once stored (`settleBatch`). Not responsible for storing
 * them: that is the store's function.
 */
import type { StoredUpdate, Update } from "./transport.js";

/**
 * Hands the updates a store has just stored of `batch` to `onAppended` (the transport's tail), in
 * log order, then settles each append with its outcome (`outcomes[i]` is `batch[i]`'s: stored, or
 * the error it failed with): the tail hears of them before their callers do.
 */
export function settleBatch(
  batch: readonly PendingAppend[],
  outcomes: readonly (StoredUpdate | Error)[],
  onAppended: ((batch: readonly StoredUpdate[]) => void) | undefined,
): void {
  const appended: StoredUpdate[] = [];
  for (const outcome of outcomes) if (!(outcome instanceof Error)) appended.push(outcome);
  if (appended.length > 0) onAppended?.(appended);
  batch.forEach((pending, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined || outcome instanceof Error)
      pending.reject(outcome ?? new Error("the store lost an append"));
    else pending.resolve(outcome);
  });
}

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
