/**
 * The transport a configuration names: the one given (`transport`), else memory or SQLite behind
 * the local transport, else Redis. A store that cannot be opened stops start-up with a
 * ConfigError naming the `store` setting.
 */
import { ConfigError, type HubConfig } from "../config.js";
import { LocalTransport } from "./local.js";
import { MemoryStore } from "./memory.js";
import { RedisTransport } from "./redis.js";
import { SqliteStore } from "./sqlite.js";
import type { Transport } from "./transport.js";

export function openTransport(config: HubConfig): Transport {
  if (config.transport !== undefined) return config.transport;
  const limits = { maxEvents: config.historyMaxEvents, maxAgeMs: config.historyMaxAgeMs };
  switch (config.store.kind) {
    case "memory":
      return new LocalTransport(new MemoryStore(limits));
    case "sqlite":
      try {
        return new LocalTransport(
          new SqliteStore({ ...limits, path: config.store.path, durability: config.store.durability }),
        );
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ConfigError(
          "store",
          `store: cannot open the SQLite database ${config.store.path} (${reason}); name a writable file that is an SQLite database or does not exist yet`,
        );
      }
    case "redis":
      return new RedisTransport({
        ...limits,
        redis: config.store.url,
        key: config.store.key,
        nodeTimeoutMs: config.store.nodeTimeoutMs,
      });
  }
}
