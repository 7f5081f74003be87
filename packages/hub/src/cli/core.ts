/**
 * The hub core as the command line uses it: `resolveConfig` (throwing `ConfigError` with a
 * `setting`), `createHub(config)`, `hub.listen(port, host)` and `hub.close({ retryMs })`. Loaded
 * lazily, so that `--help` and usage errors answer without loading the server, stores and auth.
 * The interfaces below are the contract the CLI relies on, checked when the module loads; not
 * responsible for anything the core does.
 */
import type { HubConfig, HubConfigInput } from "../config.js";

export interface CoreHub {
  listen(
    port?: number,
    host?: string,
  ): Promise<{ readonly port: number; readonly host: string; readonly url: string }>;
  close(options?: { readonly retryMs?: number }): Promise<void>;
}

export interface HubCore {
  /** Validates and completes the configuration; throws a core ConfigError naming a setting. */
  resolveConfig(input: HubConfigInput): HubConfig;
  createHub(config: HubConfig): CoreHub | Promise<CoreHub>;
  /** The core setting a ConfigError names, or undefined for any other error. */
  configErrorSetting(error: unknown): string | undefined;
}

// In a variable while the server module (index.ts) is being written in parallel.
const INDEX_MODULE = "../index.js";

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === "function";
}

export async function loadHubCore(): Promise<HubCore> {
  const { resolveConfig, ConfigError } = await import("../config.js");
  const index: Record<string, unknown> = await import(INDEX_MODULE);
  const { createHub } = index;
  if (!isFunction(createHub)) throw new Error("the hub core does not export createHub");
  return {
    resolveConfig,
    createHub: createHub as HubCore["createHub"],
    configErrorSetting(error) {
      return error instanceof ConfigError ? error.setting : undefined;
    },
  };
}
