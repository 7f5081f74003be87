/**
 * Loads the hub core (`resolveConfig`, `ConfigError`, `createHub` from the package's index) only
 * when `ssekit hub` really starts, so that `--help` and usage errors answer without loading the
 * server, the stores and auth. Not responsible for anything the core does.
 */
import type { Hub, HubConfig, HubConfigInput } from "../index.js";
import { checkSqliteDriver } from "./sqlite-driver.js";

export interface HubCore {
  /** Validates and completes the configuration; throws the core's ConfigError naming a setting. */
  resolveConfig(input: HubConfigInput): HubConfig;
  createHub(config: HubConfig): Hub;
  /** The core setting a ConfigError names, or undefined for any other error. */
  configErrorSetting(error: unknown): string | undefined;
}

export async function loadHubCore(): Promise<HubCore> {
  const { resolveConfig, ConfigError, createHub } = await import("../index.js");
  return {
    resolveConfig,
    createHub: (config) => {
      // The SQLite store's driver is an optional native dependency: say what to install.
      if (config.transport === undefined && config.store.kind === "sqlite") checkSqliteDriver();
      return createHub(config);
    },
    configErrorSetting: (error) => (error instanceof ConfigError ? error.setting : undefined),
  };
}
