/**
 * The Redis implementation of ssekit/server's `ChannelBus`: a channel's events as entries of one
 * Redis log (fields `data`, and `event`, `id`, `retry` when set), so that `createChannel({ bus })`
 * spans every process that uses the same key. An event's id is its own when the broadcaster gave
 * one (indexed by the log, so a reconnecting client can resume from it, and refused while still in
 * the log), else its stream entry id. Only the types come from ssekit.
 */
import type { BusEvent, BusFollower, BusMessage, BusReplay, ChannelBus } from "ssekit/server";
import type { LogEntry } from "./entries.js";
import { RedisLogError } from "./errors.js";
import { compareIds, isStreamId, START } from "./ids.js";
import { createRedisLog, type RedisLog, type RedisLogOptions } from "./log.js";

export interface RedisChannelBusOptions extends Omit<RedisLogOptions, "idField"> {
  /**
   * Called each time following the log fails (Redis unreachable, ...); the bus keeps trying with
   * backoff and resumes after the last event it delivered. Default: not reported.
   */
  readonly onError?: (error: Error) => void;
  /** Called when following works again after a failure. */
  readonly onResume?: () => void;
}

function toEvent(entry: LogEntry<string>): BusEvent {
  const fields = entry.fields;
  const retry = fields.retry;
  return {
    position: entry.id,
    id: fields.id ?? entry.id,
    event: fields.event,
    data: fields.data ?? "",
    retry: retry === undefined ? undefined : Number(retry),
  };
}

export class RedisChannelBus implements ChannelBus {
  /** The log under the bus (stream `key`, id index `<key>:ids`). */
  readonly log: RedisLog<string>;
  readonly #options: RedisChannelBusOptions;

  constructor(options: RedisChannelBusOptions) {
    this.#options = options;
    this.log = createRedisLog({ ...options, idField: "id", buffers: false });
  }

  async append(message: BusMessage): Promise<string> {
    const fields: Record<string, string> = { data: message.data };
    if (message.event !== undefined) fields.event = message.event;
    if (message.id !== undefined) {
      if (isStreamId(message.id)) {
        throw new RedisLogError(
          "INVALID_ENTRY",
          `event id ${JSON.stringify(message.id)} has the form of a log position (<ms>-<seq>), which the bus assigns; choose another or omit it`,
        );
      }
      fields.id = message.id;
    }
    if (message.retry !== undefined) fields.retry = String(message.retry);
    const position = await this.log.append(fields);
    return message.id ?? position;
  }

  async after(lastEventId: string, limit: number): Promise<BusReplay> {
    const result = await this.log.read(lastEventId === "earliest" ? START : lastEventId, limit);
    if (result.kind === "unknown") return { kind: "unknown" };
    const events = result.entries.map(toEvent);
    if (result.kind === "trimmed") return { kind: "too-old", events };
    return { kind: "found", position: result.after, events };
  }

  follow(deliver: (events: readonly BusEvent[]) => void): BusFollower {
    const tail = this.log.tail("$", (entries) => deliver(entries.map(toEvent)), {
      onError: this.#options.onError,
      onResume: this.#options.onResume,
    });
    return { started: () => tail.started(), close: () => tail.close() };
  }

  compare(a: string, b: string): number {
    return compareIds(a, b);
  }

  /** Closes the log's connections, and so every channel's follower on this bus. */
  close(): Promise<void> {
    return this.log.close();
  }
}

/**
 * A channel bus on Redis: `createChannel({ bus: redisChannelBus({ redis: "redis://...", key: "chat" }) })`
 * in every process that should share the channel.
 */
export function redisChannelBus(options: RedisChannelBusOptions): RedisChannelBus {
  return new RedisChannelBus(options);
}
