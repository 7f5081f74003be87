/**
 * Translates the command line's resolved settings into the hub core's `HubConfigInput`, and a
 * core `ConfigError` (which names a core setting) back into the flag, variable or config-file key
 * the user wrote. Also reads the TLS files, whose paths are the user's but whose contents the core
 * needs. This is the only file that knows both vocabularies. Not responsible for validation rules:
 * the core's `resolveConfig` owns those.
 */
import { readFileSync } from "node:fs";
import type { HubConfigInput } from "../config.js";
import { CliUsageError } from "./errors.js";
import {
  booleanSetting,
  listSetting,
  nameSetting,
  numberSetting,
  type ResolvedSettings,
  stringSetting,
} from "./resolve.js";
import type { SettingName } from "./settings.js";

function readPem(settings: ResolvedSettings, name: "tlsCert" | "tlsKey"): string | undefined {
  const path = stringSetting(settings, name);
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliUsageError("BAD_VALUE", `${nameSetting(settings, name)}: cannot read ${path} (${reason})`);
  }
}

export function toHubConfigInput(settings: ResolvedSettings, dev: boolean): HubConfigInput {
  const cert = readPem(settings, "tlsCert");
  const key = readPem(settings, "tlsKey");
  if ((cert === undefined) !== (key === undefined)) {
    const missing: SettingName = cert === undefined ? "tlsCert" : "tlsKey";
    throw new CliUsageError(
      "MISSING_VALUE",
      `${nameSetting(settings, missing)}: required together with ${nameSetting(settings, missing === "tlsCert" ? "tlsKey" : "tlsCert")}`,
    );
  }
  return {
    port: numberSetting(settings, "port"),
    host: stringSetting(settings, "host"),
    store: stringSetting(settings, "store"),
    anonymous: booleanSetting(settings, "anonymous"),
    subscriptions: booleanSetting(settings, "noSubscriptions") ? false : undefined,
    resourceIdentifier: stringSetting(settings, "resourceIdentifier"),
    corsOrigins: listSetting(settings, "corsOrigins"),
    publisherJwtKey: stringSetting(settings, "publisherJwtKey"),
    subscriberJwtKey: stringSetting(settings, "subscriberJwtKey"),
    publisherJwtAlg: stringSetting(settings, "publisherJwtAlg"),
    subscriberJwtAlg: stringSetting(settings, "subscriberJwtAlg"),
    jwksUrl: stringSetting(settings, "jwksUrl"),
    historyMaxEvents: numberSetting(settings, "historyMaxEvents"),
    historyMaxAgeMs: numberSetting(settings, "historyMaxAge"),
    heartbeatMs: numberSetting(settings, "heartbeat"),
    maxPollBytes: numberSetting(settings, "maxPollBytes"),
    maxPatternSelectors: numberSetting(settings, "maxPatternSelectors"),
    maxDistinctPatterns: numberSetting(settings, "maxDistinctPatterns"),
    tls: cert !== undefined && key !== undefined ? { cert, key } : undefined,
    logLevel: stringSetting(settings, "logLevel"),
    dev,
  };
}

/** Which command-line setting a core `ConfigError.setting` refers to. */
const CORE_TO_CLI: Readonly<Record<string, SettingName>> = {
  port: "port",
  host: "host",
  store: "store",
  anonymous: "anonymous",
  subscriptions: "noSubscriptions",
  resourceIdentifier: "resourceIdentifier",
  corsOrigins: "corsOrigins",
  cors: "corsOrigins",
  publisherJwtKey: "publisherJwtKey",
  publisherKey: "publisherJwtKey",
  subscriberJwtKey: "subscriberJwtKey",
  subscriberKey: "subscriberJwtKey",
  publisherJwtAlg: "publisherJwtAlg",
  subscriberJwtAlg: "subscriberJwtAlg",
  jwksUrl: "jwksUrl",
  historyMaxEvents: "historyMaxEvents",
  historyMaxAgeMs: "historyMaxAge",
  heartbeatMs: "heartbeat",
  maxPollBytes: "maxPollBytes",
  maxPatternSelectors: "maxPatternSelectors",
  maxDistinctPatterns: "maxDistinctPatterns",
  tls: "tlsCert",
  "tls.cert": "tlsCert",
  "tls.key": "tlsKey",
  logLevel: "logLevel",
  logger: "logLevel",
};

/** The name to show for a core setting: the flag or variable the user used, else the core's own name. */
export function nameCoreSetting(settings: ResolvedSettings, coreSetting: string): string {
  if (coreSetting === "") return "ssekit hub";
  const name = CORE_TO_CLI[coreSetting];
  return name === undefined ? coreSetting : nameSetting(settings, name);
}
