/**
 * The shared ordered log on Redis Streams: any number of processes append entries (maps of fields)
 * and read them back in one order, `read` after an id for replay and `tail` for new entries.
 * Trimmed on append by count and age; with `idField`, caller-chosen event ids are indexed and a
 * taken one is refused. It knows nothing of SSE or Mercure, only entries and ids.
 */
import type { Redis } from "ioredis";
import { Batcher, type PendingAppend } from "./batch.js";
import { type Backoff, closeConnection, connect, type RedisConnection, whenReady } from "./connection.js";
import {
  asBuffer,
  asString,
  type Decode,
  type FieldValue,
  type LogEntry,
  replyText,
  toEntries,
} from "./entries.js";
import { DuplicateIdError, RedisLogError } from "./errors.js";
import { isStreamId, START } from "./ids.js";
import { appendScript, readScript } from "./scripts.js";
import { Tail, type TailOptions, type TailSource } from "./tail.js";

export interface RedisLogOptions {
  /** How to reach Redis: a URL (`redis://127.0.0.1:6379/0`) or ioredis options (host, port, password, tls, ...). */
  readonly redis: RedisConnection;
  /**
   * The stream's key. The log also uses `<key>:ids` (the id index: event id -> entry id) and
   * `<key>:trimmed` (the last entry trimmed: it tells `read` whether anything after an id is gone).
   * On Redis Cluster put the name in a hash tag (`{chat}`) so that the three share a slot.
   */
  readonly key: string;
  /** Most entries kept; the oldest are trimmed on append (exactly, not approximately). Default: 10000. */
  readonly maxLength?: number;
  /**
   * Most milliseconds an entry is kept, by Redis's clock; older entries are trimmed on append (an
   * idle log keeps them until the next append). Default: 0, no age limit.
   */
  readonly maxAgeMs?: number;
  /**
   * A field whose value is a caller-chosen event id: indexed, refused when already in the log
   * (`DuplicateIdError`), and accepted by `read` and `find`. Entries without the field are not
   * indexed. Default: none (no index).
   */
  readonly idField?: string;
  /**
   * How long an append waits for the first connection, and for Redis's answer, in ms; past it
   * the append rejects (`UNAVAILABLE` before sending, `UNCERTAIN` after). Default: 5000.
   */
  readonly timeoutMs?: number;
  /** How long one XREAD of a tail blocks waiting for new entries, in ms. Default: 5000. */
  readonly blockMs?: number;
  /** Most entries one XREAD of a tail takes at once. Default: 1000. */
  readonly batch?: number;
  /** Reconnection backoff of every connection of the log. Default: 50 ms doubling up to 2000 ms, with jitter. */
  readonly backoff?: Backoff;
  /** Connection errors (refused, reset, ...), for logging; the log handles them. Default: ignored. */
  readonly onConnectionError?: (error: Error) => void;
}

/** What `read` found. */
export type ReadResult<V extends FieldValue = string> =
  /** `entries` are the ones right after `after` (the entry id the argument resolved to), up to the limit. */
  | { readonly kind: "found"; readonly after: string; readonly entries: readonly LogEntry<V>[] }
  /** Entries after the id were trimmed: `entries` are the oldest kept, up to the limit. */
  | { readonly kind: "trimmed"; readonly after: string; readonly entries: readonly LogEntry<V>[] }
  /** Not an id of this log: not indexed, not an entry id, or newer than any entry it ever had. */
  | { readonly kind: "unknown" };

function checkInteger(name: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RedisLogError("INVALID_OPTION", `${name} must be an integer >= ${min} (got ${String(value)})`);
  }
}

/** The error an append or read failed with, classified by whether the command reached Redis. */
function failure(error: unknown, sent: boolean, what: string): RedisLogError {
  if (error instanceof RedisLogError) return error;
  const message = error instanceof Error ? error.message : replyText(error);
  if (error instanceof Error && error.name === "ReplyError") {
    return new RedisLogError("REJECTED", `${what}: Redis answered ${message}`, { cause: error });
  }
  if (!sent || message.includes("enableOfflineQueue")) {
    return new RedisLogError("UNAVAILABLE", `${what}: Redis is not reachable (${message})`, { cause: error });
  }
  return new RedisLogError(
    "UNCERTAIN",
    `${what}: the connection to Redis failed before it answered (${message}); the command may or may not have been applied`,
    { cause: error },
  );
}

export class RedisLog<V extends FieldValue = string> {
  readonly key: string;
  readonly maxLength: number;
  readonly maxAgeMs: number;
  readonly idField: string | undefined;
  readonly #connection: RedisConnection;
  readonly #options: RedisLogOptions;
  readonly #writer: Redis;
  readonly #keys: readonly [string, string, string];
  readonly #decode: Decode<V>;
  readonly #tails = new Set<Tail<V>>();
  readonly #source: TailSource<V>;
  readonly #batcher = new Batcher((batch) => this.#appendBatch(batch));
  #everReady = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** How many batches were sent so far: tells whether one was sent after a given one. */
  #sentBatches = 0;

  /** @internal Logs are made by `createRedisLog`. */
  static open<V extends FieldValue>(options: RedisLogOptions, decode: Decode<V>): RedisLog<V> {
    return new RedisLog<V>(options, decode);
  }

  // Private, so that the published types do not offer `new RedisLog()`.
  private constructor(options: RedisLogOptions, decode: Decode<V>) {
    if (typeof options.key !== "string" || options.key === "") {
      throw new RedisLogError("INVALID_OPTION", "key must be a non-empty string (the stream's Redis key)");
    }
    checkInteger("maxLength", options.maxLength, 1);
    checkInteger("maxAgeMs", options.maxAgeMs, 0);
    checkInteger("timeoutMs", options.timeoutMs, 1);
    checkInteger("blockMs", options.blockMs, 1);
    checkInteger("batch", options.batch, 1);
    if (options.idField !== undefined && (typeof options.idField !== "string" || options.idField === "")) {
      throw new RedisLogError("INVALID_OPTION", "idField must be a non-empty field name when given");
    }
    this.key = options.key;
    this.maxLength = options.maxLength ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? 0;
    this.idField = options.idField;
    this.#connection = options.redis;
    this.#options = options;
    this.#keys = [options.key, `${options.key}:ids`, `${options.key}:trimmed`];
    this.#decode = decode;
    const timeoutMs = options.timeoutMs ?? 5_000;
    this.#writer = this.#connect("log", { commandTimeout: timeoutMs });
    this.#writer.on("ready", () => {
      this.#everReady = true;
      // First on each new connection, before any append: appends in flight together must find the
      // script cached (see #appendBatch), also after Redis restarted without it.
      appendScript.load(this.#writer).catch(() => {});
    });
    this.#source = {
      key: options.key,
      blockMs: options.blockMs ?? 5_000,
      batch: options.batch ?? 1_000,
      timeoutMs,
      backoff: options.backoff,
      decode,
      resolveEnd: () => this.lastId(),
      forget: (tail) => this.#tails.delete(tail),
    };
  }

  #connect(role: string, extra: Parameters<typeof connect>[2]): Redis {
    const redis = connect(this.#connection, this.#options.backoff, extra, `ssekit-${role}:${this.key}`);
    redis.on("error", (error: Error) => this.#options.onConnectionError?.(error));
    return redis;
  }

  /** Whether the appending connection is up now. */
  get connected(): boolean {
    return this.#writer.status === "ready";
  }

  /** Waits for the appending connection: at first for up to `timeoutMs`, later not at all. */
  async #ready(what: string): Promise<Redis> {
    if (this.#closed) throw new RedisLogError("CLOSED", `${what}: the log is closed`);
    const writer = this.#writer;
    if (writer.status === "ready") return writer;
    if (this.#everReady) {
      throw new RedisLogError("UNAVAILABLE", `${what}: Redis is not reachable (connection ${writer.status})`);
    }
    try {
      await whenReady(writer, this.#source.timeoutMs);
    } catch (error) {
      if (this.#closed) throw new RedisLogError("CLOSED", `${what}: the log is closed`);
      throw failure(error, false, what);
    }
    return writer;
  }

  /**
   * Appends one entry; resolves with its stream id once Redis has it (as durable as Redis's
   * persistence settings make it). Appends from one log object resolve in call order, which is
   * the log's order. Rejects with `RedisLogError` (`UNAVAILABLE`: not appended; `UNCERTAIN`: the
   * connection broke after sending; `REJECTED`) or `DuplicateIdError`.
   *
   * Appends made together, or while earlier ones are on their way to Redis, are gathered
   * (batch.ts) and go in one call of the append script: one round trip and one trim for all of
   * them, each refused or accepted as if it were alone.
   */
  async append(fields: Readonly<Record<string, FieldValue>>): Promise<string> {
    if (this.#closed) throw new RedisLogError("CLOSED", "append: the log is closed");
    const args: (string | Buffer)[] = [];
    let bytes = 0;
    for (const name of Object.keys(fields)) {
      const value = fields[name];
      if (typeof value !== "string" && !Buffer.isBuffer(value)) {
        throw new RedisLogError(
          "INVALID_ENTRY",
          `field ${JSON.stringify(name)} must be a string or a Buffer (got ${typeof value})`,
        );
      }
      args.push(name, value);
      bytes += name.length + value.length;
    }
    if (args.length === 0) throw new RedisLogError("INVALID_ENTRY", "an entry needs at least one field");
    const eventId = this.idField === undefined ? "" : String(fields[this.idField] ?? "");
    return this.#batcher.add(args, bytes, eventId);
  }

  /**
   * Sends one batch of appends: one script call, one answer per entry, in order. Batches go out on
   * the one appending connection in the order they are handed over (up to two are in flight), so
   * Redis applies them in call order. A batch that finds the script gone from Redis's cache (SCRIPT
   * FLUSH) is sent again whole only when no batch went out after it, which could have been applied
   * meanwhile; else it is refused (`REJECTED`, nothing appended) rather than appended out of order.
   * The entries a batch appended are handed to this log's tails that have delivered up to the entry
   * right before them (see `Tail.takeAppended`) before the appends resolve.
   */
  async #appendBatch(batch: readonly PendingAppend[]): Promise<void> {
    let writer: Redis;
    try {
      // Sent before the first await when the connection is up, so batches leave in order.
      writer = this.#writer.status === "ready" && !this.#closed ? this.#writer : await this.#ready("append");
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    const args: (string | Buffer | number)[] = [this.maxLength, this.maxAgeMs, this.idField ?? ""];
    for (const pending of batch) args.push(pending.args.length, ...pending.args);
    const sent = ++this.#sentBatches;
    let reply: unknown;
    try {
      reply = await appendScript.run(writer, this.#keys, args, () => this.#sentBatches === sent);
    } catch (error) {
      const reason = failure(error, true, "append");
      for (const pending of batch) pending.reject(reason);
      return;
    }
    const answers = reply as (number | Buffer)[];
    this.#handOver(replyText(answers[0]), batch, answers);
    batch.forEach((pending, i) => {
      const status = answers[1 + 2 * i];
      const value = answers[2 + 2 * i];
      if (status === 1) pending.resolve(replyText(value));
      else if (status === 0) pending.reject(new DuplicateIdError(pending.eventId, replyText(value)));
      else if (status === 2)
        pending.reject(new RedisLogError("REJECTED", `append: Redis answered ${replyText(value)}`));
      else
        pending.reject(
          new RedisLogError("REJECTED", "append: Redis stopped at an earlier entry of the same batch"),
        );
    });
  }

  /**
   * Offers the entries a batch appended (they follow `before` in the log, with nothing between) to
   * the tails, as a tail would read them back: values through the UTF-8 bytes Redis stores, so that
   * every process sees the same strings. Made only when a tail is at `before`.
   */
  #handOver(before: string, batch: readonly PendingAppend[], answers: readonly (number | Buffer)[]): void {
    let entries: LogEntry<V>[] | undefined;
    const appended = (): readonly LogEntry<V>[] => {
      if (entries !== undefined) return entries;
      entries = [];
      batch.forEach((pending, i) => {
        if (answers[1 + 2 * i] !== 1) return;
        const fields = Object.create(null) as Record<string, V>;
        const args = pending.args;
        for (let j = 0; j + 1 < args.length; j += 2) {
          const value = args[j + 1] as string | Buffer;
          fields[args[j] as string] = this.#decode(
            Buffer.isBuffer(value) ? value : Buffer.from(value, "utf8"),
          );
        }
        entries?.push({ id: replyText(answers[2 + 2 * i]), fields });
      });
      return entries;
    };
    for (const tail of this.#tails) tail.takeAppended(before, appended);
  }

  /**
   * Up to `limit` entries after `after`: an entry id, `START` ("0-0") for the beginning, or an
   * indexed event id. Oldest first; to read on, call again with the last entry's id.
   */
  async read(after: string, limit: number): Promise<ReadResult<V>> {
    checkInteger("limit", limit, 1);
    const writer = await this.#ready("read");
    let reply: unknown;
    try {
      reply = await readScript.run(writer, this.#keys, [
        after,
        limit,
        this.idField === undefined ? "0" : "1",
      ]);
    } catch (error) {
      throw failure(error, true, "read");
    }
    const [kind, resolved, entries] = reply as [Buffer, Buffer, unknown];
    const name = replyText(kind);
    if (name === "unknown") return { kind: "unknown" };
    return {
      kind: name === "trimmed" ? "trimmed" : "found",
      after: replyText(resolved),
      entries: toEntries(entries, this.#decode),
    };
  }

  /** The entry id holding indexed event id `eventId`, if it is still in the log (needs `idField`). */
  async find(eventId: string): Promise<string | undefined> {
    if (this.idField === undefined) return undefined;
    const writer = await this.#ready("find");
    try {
      const id = await writer.hget(this.#keys[1], eventId);
      return id ?? undefined;
    } catch (error) {
      throw failure(error, true, "find");
    }
  }

  /** The entry with stream id `entryId`, if it is still in the log. */
  async get(entryId: string): Promise<LogEntry<V> | undefined> {
    if (!isStreamId(entryId)) return undefined;
    const writer = await this.#ready("get");
    try {
      const reply = await writer.callBuffer("XRANGE", this.key, entryId, entryId);
      return toEntries(reply, this.#decode)[0];
    } catch (error) {
      throw failure(error, true, "get");
    }
  }

  /**
   * Up to `limit` entries, newest first, before entry id `before` (default: from the newest), to
   * look back from the end (for example for the newest entry with some property).
   */
  async newest(limit: number, before?: string): Promise<readonly LogEntry<V>[]> {
    checkInteger("limit", limit, 1);
    if (before !== undefined && !isStreamId(before)) {
      throw new RedisLogError(
        "INVALID_OPTION",
        `before must be a stream entry id (got ${JSON.stringify(before)})`,
      );
    }
    const writer = await this.#ready("newest");
    try {
      const reply = await writer.callBuffer(
        "XREVRANGE",
        this.key,
        before === undefined ? "+" : `(${before}`,
        "-",
        "COUNT",
        limit,
      );
      return toEntries(reply, this.#decode);
    } catch (error) {
      throw failure(error, true, "newest");
    }
  }

  /** The id of the newest entry, or `START` when the log is empty. */
  async lastId(): Promise<string> {
    const writer = await this.#ready("lastId");
    try {
      const newest = (await writer.callBuffer("XREVRANGE", this.key, "+", "-", "COUNT", 1)) as unknown[];
      return newest[0] ? replyText((newest[0] as unknown[])[0]) : START;
    } catch (error) {
      throw failure(error, true, "lastId");
    }
  }

  /**
   * Follows the log on a connection of its own: `handler` gets every entry after `from` (an entry
   * id, or `"$"` for the end of the log now), in order, each once, batch by batch, until `close`.
   */
  tail(from: string, handler: (entries: readonly LogEntry<V>[]) => void, options: TailOptions = {}): Tail<V> {
    if (this.#closed) throw new RedisLogError("CLOSED", "tail: the log is closed");
    // No command timeout here: an XREAD BLOCK waits on purpose.
    const redis = this.#connect("tail", {});
    const tail = Tail.open<V>(this.#source, redis, from === "$" ? undefined : from, handler, options);
    this.#tails.add(tail);
    return tail;
  }

  /**
   * Closes every tail and the appending connection, and resolves once their sockets are closed:
   * appends already sent have been answered, appends still waiting for a connection reject with
   * `CLOSED`, and nothing reconnects afterwards. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#closing = Promise.all([
        ...[...this.#tails].map((tail) => tail.close()),
        closeConnection(this.#writer, true),
      ]).then(() => undefined);
    }
    return this.#closing;
  }
}

export type RedisLogBufferOptions = RedisLogOptions & {
  /** Field values come back as Buffers (binary payloads) instead of UTF-8 strings. */
  readonly buffers: true;
};

/** Makes a log over the stream `options.key`; connects at once. Field values read back as strings, or Buffers with `buffers: true`. */
export function createRedisLog(options: RedisLogBufferOptions): RedisLog<Buffer>;
export function createRedisLog(options: RedisLogOptions & { readonly buffers?: false }): RedisLog<string>;
export function createRedisLog(
  options: RedisLogOptions & { readonly buffers?: boolean },
): RedisLog<string> | RedisLog<Buffer> {
  return options.buffers
    ? RedisLog.open<Buffer>(options, asBuffer)
    : RedisLog.open<string>(options, asString);
}
