/**
 * The hub core as the command line uses it: `resolveConfig` (throwing `ConfigError` with a
 * `setting`), `createHub(config)`, `hub.listen(port, host)` and `hub.close({ retryMs })`. Loaded
 * lazily, so that `--help` and usage errors answer without loading the server, stores and auth.
 * The interfaces below are the contract the CLI relies on, checked when the module loads; not
 * responsible for anything the core does.
 */

/** The configuration the CLI hands to `resolveConfig`: what flags, env and file can set. */
export interface CoreConfigInput {
  readonly port?: number;
  readonly host?: string;
  readonly store?: string;
  readonly anonymous?: boolean;
  readonly corsOrigins?: readonly string[];
  readonly publisherJwtKey?: string;
  readonly subscriberJwtKey?: string;
  readonly publisherJwtAlg?: string;
  readonly subscriberJwtAlg?: string;
  readonly jwksUrl?: string;
  readonly historyMaxEvents?: number;
  readonly historyMaxAgeMs?: number;
  readonly heartbeatMs?: number;
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly logLevel?: string;
  readonly dev?: boolean;
}

export interface CoreHub {
  listen(
    port?: number,
    host?: string,
  ): Promise<{ readonly port: number; readonly host: string; readonly url: string }>;
  close(options?: { readonly retryMs?: number }): Promise<void>;
}

export interface HubCore {
  /** Validates and completes the configuration; throws a core ConfigError naming a setting. */
  resolveConfig(input: CoreConfigInput): unknown;
  createHub(config: unknown): CoreHub | Promise<CoreHub>;
  /** The core setting a ConfigError names, or undefined for any other error. */
  configErrorSetting(error: unknown): string | undefined;
}

// Specifiers in variables: the core is a peer module that the CLI must not load eagerly.
const CONFIG_MODULE = "../config.js";
const INDEX_MODULE = "../index.js";

function isFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === "function";
}

export async function loadHubCore(): Promise<HubCore> {
  const config: Record<string, unknown> = await import(CONFIG_MODULE);
  const index: Record<string, unknown> = await import(INDEX_MODULE);
  const { resolveConfig, ConfigError } = config;
  const { createHub } = index;
  if (!isFunction(resolveConfig) || !isFunction(ConfigError) || !isFunction(createHub)) {
    throw new Error("the hub core does not export resolveConfig, ConfigError and createHub");
  }
  return {
    resolveConfig: resolveConfig as HubCore["resolveConfig"],
    createHub: createHub as HubCore["createHub"],
    configErrorSetting(error) {
      if (!(error instanceof ConfigError)) return undefined;
      const setting: unknown = (error as { setting?: unknown }).setting;
      return typeof setting === "string" ? setting : "";
    },
  };
}
