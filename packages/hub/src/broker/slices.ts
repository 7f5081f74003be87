/**
 * Cooperative time slicing for the hub's long loops (replay, poll scans): a loop runs for at most
 * one slice, then waits for its turn, one turn per iteration of the event loop, so the loop is never
 * held for long however many run at once. Not responsible for what the loops do.
 */

/** Milliseconds one loop may run before it gives the event loop back. */
export const SLICE_MS = 5;

export class Slicer {
  readonly #waiting: (() => void)[] = [];
  #scheduled = false;
  /** When the event loop last came round to its check phase, as far as `pace` has seen. */
  #lastBreath = 0;
  #breathing = false;

  /**
   * Resolves at once, unless the event loop has been busy for a slice without coming round (a
   * burst of requests read in one go): then at the caller's next turn. Requests call it before
   * their costly part, so that a thousand arriving together cannot hold the loop between them.
   */
  pace(): Promise<void> | undefined {
    const now = performance.now();
    if (!this.#breathing) {
      this.#breathing = true;
      this.#lastBreath = now;
      setImmediate(() => {
        this.#breathing = false;
      });
      return undefined;
    }
    return now - this.#lastBreath >= SLICE_MS ? this.turn() : undefined;
  }

  /**
   * Resolves at the caller's next turn: in a later iteration of the event loop, after sockets
   * have been read and after every loop that asked before it has had its turn.
   */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#schedule();
    });
  }

  /** A clock for one slice: when `spent()`, the caller awaits `next()`. */
  slice(): Slice {
    return new Slice(this);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      // One loop per iteration: it runs in the microtasks right after this callback.
      this.#waiting.shift()?.();
      if (this.#waiting.length > 0) this.#schedule();
    });
  }
}

/** How long the current slice has run; checked every few items, as reading the clock has a cost. */
export class Slice {
  readonly #slicer: Slicer;
  #start = performance.now();
  #count = 0;

  constructor(slicer: Slicer) {
    this.#slicer = slicer;
  }

  /** True when the slice is over (checked every `every` calls); the caller then awaits `next()`. */
  spent(every = 8): boolean {
    if (++this.#count % every !== 0) return false;
    return performance.now() - this.#start >= SLICE_MS;
  }

  /** Waits for the caller's next turn, then starts a new slice. */
  async next(): Promise<void> {
    await this.#slicer.turn();
    this.#start = performance.now();
    this.#count = 0;
  }
}
