/**
 * Following a log: a loop of XREAD BLOCK on a connection of its own, handing each batch of new
 * entries to a handler in log order, exactly once. The position only moves past entries that were
 * handed over, so when Redis goes away the tail retries with backoff and, once it is back, reads on
 * from the last entry it delivered: nothing is skipped and nothing is delivered twice. Entries its
 * own log appended right after its position are handed to it from the append's answer
 * (`takeAppended`), a round trip before XREAD would bring them; XREAD then skips what it has.
 * Not responsible for appending or for what the handler does with the entries.
 */
import type { Redis } from "ioredis";
import { type Backoff, backoffDelay, closeConnection, whenReady } from "./connection.js";
import { type Decode, type FieldValue, type LogEntry, replyText, toEntries } from "./entries.js";
import { RedisLogError } from "./errors.js";
import { compareIds } from "./ids.js";

export interface TailOptions {
  /**
   * Called each time following fails (Redis unreachable, a timeout, an error thrown by the
   * handler); the tail keeps trying with backoff. Default: errors are not reported.
   */
  readonly onError?: (error: Error) => void;
  /** Called when following works again after one or more failures. */
  readonly onResume?: () => void;
}

/** @internal What a tail needs from its log. */
export interface TailSource<V extends FieldValue> {
  readonly key: string;
  readonly blockMs: number;
  readonly batch: number;
  readonly timeoutMs: number;
  readonly backoff: Backoff | undefined;
  readonly decode: Decode<V>;
  /** Resolves "$" (the end of the log now) to an entry id, through the appending connection. */
  resolveEnd(): Promise<string>;
  /** Called once the tail has stopped, so the log forgets it. */
  forget(tail: Tail<V>): void;
}

export class Tail<V extends FieldValue = string> {
  readonly #source: TailSource<V>;
  readonly #redis: Redis;
  readonly #handler: (entries: readonly LogEntry<V>[]) => void;
  readonly #options: TailOptions;
  #position: string | undefined;
  #closed = false;
  #startError: Error | undefined;
  #startWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  /** Ends the loop's current wait (a backoff, or the end of the log from the log's connection) on close. */
  #wake: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  readonly #done: Promise<void>;

  /** @internal Tails are made by `RedisLog.tail`. */
  static open<V extends FieldValue>(
    source: TailSource<V>,
    redis: Redis,
    from: string | undefined,
    handler: (entries: readonly LogEntry<V>[]) => void,
    options: TailOptions,
  ): Tail<V> {
    return new Tail<V>(source, redis, from, handler, options);
  }

  // Private, so that the published types do not offer `new Tail()`.
  private constructor(
    source: TailSource<V>,
    redis: Redis,
    from: string | undefined,
    handler: (entries: readonly LogEntry<V>[]) => void,
    options: TailOptions,
  ) {
    this.#source = source;
    this.#redis = redis;
    this.#position = from;
    this.#handler = handler;
    this.#options = options;
    this.#done = this.#run();
  }

  /** The id of the last entry delivered (or where the tail started); undefined until it knows. */
  get position(): string | undefined {
    return this.#position;
  }

  /**
   * Resolves once the tail knows where it starts (at once when started from an entry id; after one
   * round trip for the end of the log). Rejects with the reason when the latest attempt to find the
   * end failed; the tail keeps trying, so a later call may resolve.
   */
  started(): Promise<void> {
    if (this.#position !== undefined) return Promise.resolve();
    if (this.#closed) return Promise.reject(new RedisLogError("CLOSED", "the tail is closed"));
    if (this.#startError) return Promise.reject(this.#startError);
    return new Promise((resolve, reject) => this.#startWaiters.push({ resolve, reject }));
  }

  /**
   * Stops following and closes the tail's connection (an XREAD waiting on it is cut short, a
   * reconnection pending is cancelled); resolves once the loop has ended and the connection is
   * closed. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#wake?.();
      this.#settleStart(new RedisLogError("CLOSED", "the tail is closed"));
      this.#closing = Promise.all([closeConnection(this.#redis, false), this.#done]).then(() => undefined);
    }
    return this.#closing;
  }

  /**
   * @internal Called by the log with the entries one of its appends just added, which follow
   * `before` in the log with nothing between: when this tail has delivered exactly up to `before`,
   * it delivers them now (the XREAD on its way skips them when it returns). Otherwise the tail is
   * behind (or ahead) and reads them in turn, so the order stays the log's.
   */
  takeAppended(before: string, appended: () => readonly LogEntry<V>[]): void {
    if (this.#closed || this.#position !== before) return;
    const entries = appended();
    const last = entries.at(-1);
    if (last === undefined) return;
    this.#position = last.id;
    this.#deliver(entries);
  }

  /**
   * `promise`, or the tail's CLOSED error once it is closed: the end of the log comes through the
   * log's connection, which may wait for its first connection long after this tail is closed.
   */
  async #unlessClosed<T>(promise: Promise<T>): Promise<T> {
    try {
      return await new Promise<T>((resolve, reject) => {
        this.#wake = () => reject(new RedisLogError("CLOSED", "the tail is closed"));
        if (this.#closed) this.#wake();
        promise.then(resolve, reject);
      });
    } finally {
      this.#wake = undefined;
    }
  }

  #deliver(entries: readonly LogEntry<V>[]): void {
    try {
      this.#handler(entries);
    } catch (error) {
      this.#options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #settleStart(error?: Error): void {
    this.#startError = error;
    const waiters = this.#startWaiters;
    this.#startWaiters = [];
    for (const waiter of waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  async #run(): Promise<void> {
    const source = this.#source;
    let failures = 0;
    while (!this.#closed) {
      try {
        if (this.#redis.status !== "ready") await whenReady(this.#redis, source.timeoutMs);
        if (this.#position === undefined) {
          this.#position = await this.#unlessClosed(source.resolveEnd());
          this.#settleStart();
        }
        const reply = await this.#redis.callBuffer(
          "XREAD",
          "COUNT",
          source.batch,
          "BLOCK",
          source.blockMs,
          "STREAMS",
          source.key,
          this.#position,
        );
        if (failures > 0) {
          failures = 0;
          this.#options.onResume?.();
        }
        if (this.#closed) break;
        const streams = reply as [Buffer, unknown][] | null;
        let entries = streams?.[0] ? toEntries(streams[0][1], source.decode) : [];
        // Entries handed over by takeAppended while this XREAD was on its way are delivered already.
        const position = this.#position;
        if (entries.length > 0 && position !== undefined && compareIds(entries[0]?.id ?? "", position) <= 0) {
          entries = entries.filter((entry) => compareIds(entry.id, position) > 0);
        }
        const last = entries.at(-1);
        if (last === undefined) continue;
        this.#position = last.id;
        this.#deliver(entries);
      } catch (error) {
        if (this.#closed) break;
        failures++;
        const reason =
          error instanceof Error
            ? new RedisLogError("UNAVAILABLE", `following ${source.key}: ${error.message}`, { cause: error })
            : new RedisLogError("UNAVAILABLE", `following ${source.key}: ${replyText(error)}`);
        if (this.#position === undefined) this.#settleStart(reason);
        this.#options.onError?.(reason);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoffDelay(failures, source.backoff));
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
    }
    this.#source.forget(this);
  }
}
