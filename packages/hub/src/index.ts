/**
 * `@ssekit/hub`: a Mercure-protocol pub/sub hub. `createHub(config)` returns a hub to `listen()`
 * on its own or to mount with `hub.handle(req, res)`; `resolveConfig` validates configuration.
 * This module only re-exports; each concept lives in its own file.
 */
export { ANONYMOUS, AuthError, canPublish, canReceive, type Rights, Verifier } from "./auth.js";
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
export { createHub, type Hub, type HubAddress } from "./hub.js";
export type { HubMetrics } from "./metrics.js";
export { MemoryStore } from "./stores/memory.js";
export { SqliteStore, type SqliteStoreOptions } from "./stores/sqlite.js";
export {
  type AfterResult,
  DuplicateIdError,
  type HistoryLimits,
  type Store,
  type StoredUpdate,
  type Update,
} from "./stores/store.js";
export { compileSelector, type Selector, SelectorError, type SelectorKind } from "./topics.js";
