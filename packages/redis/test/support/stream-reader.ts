/**
 * Reads an event stream body (a Web `Response`) with ssekit's own parser and keeps what arrives,
 * so tests can wait for a number of events (an event, not a sleep) and then look at all of them.
 */
import { createParser, type ParsedEvent } from "ssekit/protocol";

export class StreamReader {
  readonly events: ParsedEvent[] = [];
  readonly comments: string[] = [];
  #waiters: { count: number; resolve: () => void }[] = [];
  ended = false;
  readonly done: Promise<void>;

  constructor(body: ReadableStream<Uint8Array> | null) {
    const parser = createParser({
      onEvent: (event) => {
        this.events.push(event);
        this.#check();
      },
      onComment: (text) => this.comments.push(text),
    });
    this.done = (async () => {
      if (!body) return;
      const reader = body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
      } catch {
        // An aborted stream ends like a closed one here.
      } finally {
        this.ended = true;
        this.#check();
      }
    })();
  }

  #check(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (this.events.length < w.count && !this.ended) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `count` events have arrived (or the stream ended). */
  until(count: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push({ count, resolve });
      this.#check();
    });
  }

  data(): string[] {
    return this.events.map((e) => e.data);
  }
}
