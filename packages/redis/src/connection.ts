/**
 * The ioredis connections of a log, made with the settings the log's guarantees rest on: no
 * offline queue and no resending after a reconnect (a command either reaches Redis on a live
 * connection or fails at once, so an append is never applied twice behind the caller's back), and
 * reconnection with capped exponential backoff and jitter. Not responsible for what is sent.
 */
import { Redis, type RedisOptions } from "ioredis";

/** How to reach Redis: a URL (`redis://host:6379/0`, `rediss://...`) or ioredis options. */
export type RedisConnection = string | RedisOptions;

export interface Backoff {
  /** First delay before reconnecting, in ms. Default: 50. */
  readonly initialMs?: number;
  /** Longest delay between attempts, in ms. Default: 2000. */
  readonly maxMs?: number;
}

/** The delay before attempt `attempt` (1-based): doubling from `initialMs` up to `maxMs`, with jitter. */
export function backoffDelay(attempt: number, backoff: Backoff = {}): number {
  const initial = backoff.initialMs ?? 50;
  const max = backoff.maxMs ?? 2_000;
  const base = Math.min(max, initial * 2 ** Math.min(attempt - 1, 30));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

export function connect(
  connection: RedisConnection,
  backoff: Backoff | undefined,
  extra: RedisOptions,
  name: string,
): Redis {
  const options: RedisOptions = {
    connectionName: name,
    ...(typeof connection === "string" ? {} : connection),
    // The replies are parsed here as RESP2 arrays (ioredis 6 defaults to RESP3, where XREAD is a map).
    protocol: 2,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    // Reject the commands in flight as soon as the connection drops, instead of holding them.
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt: number) => backoffDelay(attempt, backoff),
    ...extra,
  };
  return typeof connection === "string" ? new Redis(connection, options) : new Redis(options);
}

/** The wait of each connection not ready yet, shared by every caller that waits meanwhile. */
const waiting = new WeakMap<Redis, { readonly promise: Promise<void>; stop(error: Error): void }>();

/**
 * Resolves once `redis` is ready, or rejects when it ends, when `closeConnection` closes it, or
 * when `timeoutMs` passes. Callers waiting at the same time share one wait (and the first one's
 * time limit), so a burst of appends before the connection is up adds two listeners, not two per
 * append.
 */
export function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  let wait = waiting.get(redis);
  if (wait === undefined) {
    wait = waitForReady(redis, timeoutMs);
    waiting.set(redis, wait);
    const forget = () => waiting.delete(redis);
    wait.promise.then(forget, forget);
  }
  return wait.promise;
}

function waitForReady(redis: Redis, timeoutMs: number): { promise: Promise<void>; stop(error: Error): void } {
  let stop: (error: Error) => void = () => {};
  const promise = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`not connected within ${timeoutMs} ms`)), timeoutMs);
    const onReady = () => done();
    const onEnd = () => done(new Error("the connection was closed"));
    redis.on("ready", onReady);
    redis.on("end", onEnd);
    stop = done;
    function done(error?: Error) {
      clearTimeout(timer);
      redis.off("ready", onReady);
      redis.off("end", onEnd);
      if (error) reject(error);
      else resolve();
    }
  });
  return { promise, stop };
}

/**
 * Closes `redis` for good and resolves once its socket is closed (Redis has let the client go):
 * with QUIT when `quit` is set and the connection is up (commands sent before are answered
 * first), else at once. Whoever waits for it to be ready is answered "closed" now, and a
 * reconnection pending (Redis unreachable) is cancelled, so nothing of it outlives the call.
 */
export async function closeConnection(redis: Redis, quit: boolean): Promise<void> {
  waiting.get(redis)?.stop(new Error("the connection was closed"));
  if (redis.status === "end") return;
  const ended = new Promise<void>((resolve) => redis.once("end", () => resolve()));
  if (quit && redis.status === "ready") {
    try {
      await redis.quit();
    } catch {
      redis.disconnect();
    }
  } else {
    redis.disconnect();
  }
  // Between two attempts to reconnect there is no socket, and ioredis does not end the connection
  // when told to stop then: the attempt it had planned is cancelled, which is all there is to do.
  if (redis.status === "reconnecting") return;
  await ended;
}

/**
 * A connection with the log's settings (no offline queue, no resending, reconnection with
 * backoff), for work next to a log that is not the log's own: a command fails at once while Redis
 * is unreachable rather than waiting in a queue. `name` is the client name Redis shows.
 */
export function connectRedis(
  connection: RedisConnection,
  name: string,
  options: { readonly backoff?: Backoff; readonly commandTimeoutMs?: number } = {},
): Redis {
  return connect(connection, options.backoff, { commandTimeout: options.commandTimeoutMs ?? 5_000 }, name);
}
