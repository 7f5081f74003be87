/**
 * `@ssekit/redis`: one shared ordered log on Redis Streams (`createRedisLog`), and the channel bus
 * built on it (`redisChannelBus`) that makes ssekit/server channels span app instances.
 */

export type { Redis } from "ioredis";
export { RedisChannelBus, type RedisChannelBusOptions, redisChannelBus } from "./channel-bus.js";
export { type Backoff, connectRedis, type RedisConnection } from "./connection.js";
export type { FieldValue, LogEntry } from "./entries.js";
export { DuplicateIdError, RedisLogError, type RedisLogErrorCode } from "./errors.js";
export { compareIds, isStreamId, START } from "./ids.js";
export {
  createRedisLog,
  type ReadResult,
  RedisLog,
  type RedisLogBufferOptions,
  type RedisLogOptions,
} from "./log.js";
export { Tail, type TailOptions } from "./tail.js";
