/**
 * `@ssekit/hub`: a Mercure-protocol pub/sub hub. `createHub(config)` returns a hub to `listen()`
 * on its own or to mount with `hub.handle(req, res)`; `resolveConfig` validates configuration.
 * This module only re-exports; each concept lives in its own file.
 */

export {
  ConfigError,
  type HmacAlgorithm,
  type HubConfig,
  type HubConfigInput,
  type KeyConfig,
  type PublicKeyAlgorithm,
  resolveConfig,
  type StoreConfig,
} from "./config.js";
export { ANONYMOUS, AuthError, canPublish, canReceive, type Rights, Verifier } from "./domain/auth.js";
export type { SubscriptionDocument } from "./domain/subscription.js";
export { compileSelector, type Selector, SelectorError, type SelectorKind } from "./domain/topics.js";
export {
  DuplicateIdError,
  type StoredUpdate,
  type Update,
  UpdateError,
  type UpdateFields,
  validateUpdate,
} from "./domain/update.js";
export type { HubMetrics } from "./metrics.js";
export { createHub, type Hub, type HubAddress } from "./server/hub.js";
export { LocalTransport } from "./transports/local.js";
export { MemoryStore } from "./transports/memory.js";
export { RedisTransport, type RedisTransportOptions } from "./transports/redis.js";
export { SqliteStore, type SqliteStoreOptions } from "./transports/sqlite.js";
export {
  type AfterResult,
  type HistoryLimits,
  type Store,
  type SubscriptionEvent,
  type Transport,
  type TransportHealth,
  type TransportListener,
  TransportUnavailableError,
} from "./transports/transport.js";
