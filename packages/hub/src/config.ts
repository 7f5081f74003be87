/**
 * The hub's configuration: the `HubConfig` every other module reads, the looser `HubConfigInput`
 * that callers (the CLI, tests, embedders) hand in, and `resolveConfig`, which validates the input
 * once at start-up, applies the documented defaults and throws a `ConfigError` naming the setting
 * that is wrong. Not responsible for flags, environment variables or files: the CLI maps those to
 * `HubConfigInput` and maps `ConfigError.setting` back to the name the user wrote.
 */
import { createPublicKey } from "node:crypto";
import { createSecureContext } from "node:tls";
import pino, { type Logger } from "pino";
import type { Transport } from "./transports/transport.js";

/** HMAC algorithms: the key is a shared secret. */
export type HmacAlgorithm = "HS256" | "HS384" | "HS512";
/** Public-key algorithms: the key is a PEM public key (SPKI or X.509 certificate). */
export type PublicKeyAlgorithm =
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA";

/** How JWTs are verified: a shared secret, a PEM public key, or a JWKS document fetched by URL. */
export type KeyConfig =
  | { readonly alg: HmacAlgorithm; readonly secret: string }
  | { readonly alg: PublicKeyAlgorithm; readonly publicKey: string }
  | { readonly jwksUrl: string };

/** Where history is kept. */
export type StoreConfig =
  | { readonly kind: "memory" }
  | {
      readonly kind: "sqlite";
      /** Database file; relative paths are relative to the process's working directory. */
      readonly path: string;
      /**
       * `"process"` (default): WAL with `synchronous = NORMAL`, an acknowledged publish survives a
       * crash or SIGKILL of the hub process (the write is in the OS page cache), not a power loss.
       * `"power"`: `synchronous = FULL`, every commit is fsynced, surviving an OS crash too, slower.
       */
      readonly durability?: "process" | "power";
    }
  | {
      readonly kind: "redis";
      /** `redis://[user:password@]host:port[/db]` or `rediss://...` (TLS). */
      readonly url: string;
      /**
       * Prefix of the hub's Redis keys (its history stream is this key): hubs sharing one Redis
       * with different keys are different hubs. Default: `"ssekit-hub"`; in a URL, `?key=NAME`.
       */
      readonly key?: string;
      /**
       * Milliseconds after which a node that stopped sending heartbeats counts as dead and its
       * subscriptions are removed (their "inactive" events published). Default: 30000; in a URL,
       * `?nodeTimeoutMs=N`.
       */
      readonly nodeTimeoutMs?: number;
    };

export interface HubConfig {
  /** Key that verifies publishers' JWTs. Default: none, and every publish is refused with 401. */
  readonly publisherKey: KeyConfig | undefined;
  /** Key that verifies subscribers' JWTs. Default: `publisherKey`. */
  readonly subscriberKey: KeyConfig | undefined;
  /** Let subscribers without a token receive public updates. Default: false. */
  readonly anonymous: boolean;
  /**
   * The hub's resource identifier (RFC 9068), usually its public URL such as
   * `https://hub.example.com/.well-known/mercure`. When set, every token must name it in `aud`.
   * Default: none, and `aud` is not checked.
   */
  readonly resourceIdentifier: string | undefined;
  /** History store. Default: `{ kind: "sqlite", path: "./data/ssekit-hub.db" }`. */
  readonly store: StoreConfig;
  /**
   * A transport of your own (see `Transport`); when given, `store` is not used. Default: the
   * transport `store` names (local for memory and SQLite, Redis for `redis://`).
   */
  readonly transport: Transport | undefined;
  /** Updates kept in history at most; older ones are pruned in the background. Default: 100000. */
  readonly historyMaxEvents: number;
  /** Milliseconds an update is kept in history at most. Default: 86400000 (24 h). */
  readonly historyMaxAgeMs: number;
  /**
   * Origins allowed by CORS, credentials included; `"*"` allows any other origin without
   * credentials (no cookies: `Access-Control-Allow-Origin: *`). Default: none.
   */
  readonly cors: readonly string[];
  /**
   * Origins allowed to publish with a token taken from the `mercureAuthorization` cookie (a CSRF
   * guard; tokens in the Authorization header are not affected). `"*"` is refused: it would let
   * any site publish with its visitors' cookies. Default: the `cors` origins other than `"*"`.
   */
  readonly publishOrigins: readonly string[];
  /** Serve the subscriptions API and publish subscription events. Default: true. */
  readonly subscriptions: boolean;
  /** Milliseconds between heartbeat comments on idle streams; 0 disables them. Default: 15000. */
  readonly heartbeatMs: number;
  /** Largest publish body accepted, in bytes; larger ones get 413. Default: 1048576 (1 MiB). */
  readonly maxBodyBytes: number;
  /**
   * Milliseconds a publish body may take to arrive; a slower one is answered 408 and nothing of it
   * is stored. Default: 30000.
   */
  readonly bodyTimeoutMs: number;
  /** Longest a poll may be held open, in milliseconds. Default: 30000. */
  readonly maxPollTimeoutMs: number;
  /** Bytes a subscriber may have unread in its buffer before it is disconnected. Default: 4194304 (4 MiB). */
  readonly maxBufferedBytes: number;
  /**
   * Bytes of events one poll answer carries at most (at least one event, however large); the
   * client's next poll goes on from the answer's `lastEventId`. Default: 1048576 (1 MiB).
   */
  readonly maxPollBytes: number;
  /**
   * Pattern selectors (URI templates, URL Patterns, `*`) one subscription may carry; more are
   * refused with 400. Each one runs on every public update. Default: 32.
   */
  readonly maxPatternSelectors: number;
  /**
   * Distinct pattern selectors the open subscriptions of this hub may use together; a subscription
   * that would add more is refused with 429 until some close. A pattern shared by many subscribers
   * counts once. Default: 5000.
   */
  readonly maxDistinctPatterns: number;
  /** `retry` (milliseconds) sent to subscribers on connect and on shutdown. Default: 2000. */
  readonly retryMs: number;
  /** Serve the web console and demo pages at `/`. Default: true. */
  readonly ui: boolean;
  /** Development conveniences: `/ui/dev-token` for loopback clients and the demo ticker. Default: false. */
  readonly dev: boolean;
  /** Port `listen()` uses when called without one. Default: 3000. */
  readonly port: number;
  /** Host `listen()` binds when called without one. Default: "127.0.0.1". */
  readonly host: string;
  /** Serve HTTPS with HTTP/2 (HTTP/1.1 fallback) with this PEM certificate and key. Default: plain HTTP/1.1. */
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  /** Structured logs. Default: pino at level "info" ("silent" under `node --test`). */
  readonly logger: Logger;
}

/**
 * What callers may hand to `resolveConfig`: every `HubConfig` field optional, plus the flat forms
 * the command line and the Mercure environment variables use (`store: "sqlite:PATH"`,
 * `publisherJwtKey` + `publisherJwtAlg`, `corsOrigins`, `logLevel`).
 */
export interface HubConfigInput {
  readonly publisherKey?: KeyConfig;
  readonly subscriberKey?: KeyConfig;
  readonly anonymous?: boolean;
  readonly resourceIdentifier?: string;
  /** A `StoreConfig`, or `"memory"`, `"sqlite:PATH"`, `"redis://..."`. */
  readonly store?: StoreConfig | string;
  /** A transport of your own, used instead of `store`. */
  readonly transport?: Transport;
  readonly historyMaxEvents?: number;
  readonly historyMaxAgeMs?: number;
  readonly cors?: readonly string[];
  readonly publishOrigins?: readonly string[];
  readonly subscriptions?: boolean;
  readonly heartbeatMs?: number;
  readonly maxBodyBytes?: number;
  readonly bodyTimeoutMs?: number;
  readonly maxPollTimeoutMs?: number;
  readonly maxBufferedBytes?: number;
  readonly maxPollBytes?: number;
  readonly maxPatternSelectors?: number;
  readonly maxDistinctPatterns?: number;
  readonly retryMs?: number;
  readonly ui?: boolean;
  readonly dev?: boolean;
  readonly port?: number;
  readonly host?: string;
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** A pino logger, or a level name ("silent", "error", "info", "debug", ...). */
  readonly logger?: Logger | string;
  /** Flat form of `cors` (the command line's `--cors-origins`). */
  readonly corsOrigins?: readonly string[];
  /** Flat form of `publisherKey`: a secret (HS*) or a PEM public key (other algorithms). */
  readonly publisherJwtKey?: string;
  readonly publisherJwtAlg?: string;
  readonly subscriberJwtKey?: string;
  readonly subscriberJwtAlg?: string;
  /** Flat form of a JWKS key for both publishers and subscribers (unless a key is given for one). */
  readonly jwksUrl?: string;
  /** Flat form of `logger` as a level. */
  readonly logLevel?: string;
}

/** A setting that is missing, malformed or out of range. `setting` is the `HubConfigInput` field name. */
export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

export const HMAC_ALGORITHMS: readonly HmacAlgorithm[] = ["HS256", "HS384", "HS512"];
export const PUBLIC_KEY_ALGORITHMS: readonly PublicKeyAlgorithm[] = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
];
const LEVELS = ["silent", "fatal", "error", "warn", "info", "debug", "trace"];
/** The longest delay node's timers take; a longer one fires after 1 ms instead. */
const MAX_TIMER_MS = 2_147_483_647;
/** RFC 7518 section 3.2: an HMAC key at least as long as the hash output. */
export const HMAC_MIN_BYTES: Readonly<Record<HmacAlgorithm, number>> = { HS256: 32, HS384: 48, HS512: 64 };

function positiveInt(setting: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new ConfigError(
      setting,
      `${setting} must be a ${allowZero ? "non-negative" : "positive"} integer (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/** A timer delay in milliseconds: node's timers take at most 2^31-1 ms (about 24.8 days). */
function timerMs(setting: string, value: unknown, fallback: number, allowZero = false): number {
  const ms = positiveInt(setting, value, fallback, allowZero);
  if (ms > MAX_TIMER_MS) {
    throw new ConfigError(
      setting,
      `${setting} must be at most ${MAX_TIMER_MS} ms, about 24.8 days, the longest timer node runs (got ${ms})`,
    );
  }
  return ms;
}

function checkSecret(setting: string, alg: HmacAlgorithm, secret: string): void {
  if (secret === "") throw new ConfigError(setting, `${setting} must not be empty`);
  const bytes = Buffer.byteLength(secret);
  const min = HMAC_MIN_BYTES[alg];
  if (bytes < min) {
    throw new ConfigError(
      setting,
      `${setting}: an ${alg} secret must be at least ${min} bytes (got ${bytes}); generate one with: openssl rand -base64 ${min}`,
    );
  }
}

function checkPublicKey(setting: string, alg: string, pem: string): void {
  if (!pem.includes("-----BEGIN")) {
    throw new ConfigError(
      setting,
      `${setting} must be a PEM public key for ${alg} (got no "-----BEGIN" line)`,
    );
  }
  try {
    createPublicKey(pem);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(setting, `${setting} is not a readable PEM public key for ${alg} (${reason})`);
  }
}

function checkJwksUrl(setting: string, url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new ConfigError(
      setting,
      `${setting}: the JWKS URL must be an absolute http(s) URL such as https://auth.example.com/.well-known/jwks.json (got "${url}")`,
    );
  }
}

/** Loads the certificate and key as the server will, so that a bad file stops start-up, not the first client. */
function checkTls(tls: { readonly cert: string; readonly key: string }): void {
  const attempt = (setting: string, what: string, options: Parameters<typeof createSecureContext>[0]) => {
    try {
      createSecureContext(options);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConfigError(setting, `${setting}: ${what} (${reason})`);
    }
  };
  if (!tls.cert.includes("-----BEGIN"))
    throw new ConfigError("tls.cert", "tls.cert must be a PEM certificate");
  if (!tls.key.includes("-----BEGIN")) throw new ConfigError("tls.key", "tls.key must be a PEM private key");
  attempt("tls.cert", "the certificate cannot be read", { cert: tls.cert });
  attempt("tls.key", "the private key cannot be read", { key: tls.key });
  attempt("tls.key", "the private key does not belong to the certificate", { cert: tls.cert, key: tls.key });
}

function publishOrigins(value: readonly string[] | undefined): readonly string[] | undefined {
  if (value?.includes("*"))
    throw new ConfigError(
      "publishOrigins",
      "publishOrigins must not be *: any site could publish with its visitors' mercureAuthorization cookie; list the origins of your own pages",
    );
  return origins("publishOrigins", value);
}

function origins(setting: string, value: readonly string[] | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  for (const origin of value) {
    if (origin === "*") continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || parsed.origin !== origin.replace(/\/$/, "")) {
      throw new ConfigError(
        setting,
        `${setting}: "${origin}" is not an origin; write scheme://host[:port], like https://app.example.com, or *`,
      );
    }
  }
  return value.map((o) => o.replace(/\/$/, ""));
}

function parseRedisStore(value: string): StoreConfig {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      "store",
      `store: "${value}" is not a valid Redis URL; write redis://HOST:PORT[/DB]`,
    );
  }
  if (url.hostname === "")
    throw new ConfigError("store", `store: "${value}" names no host; write redis://HOST:PORT[/DB]`);
  const key = url.searchParams.get("key");
  if (key === "") throw new ConfigError("store", `store: "key" in "${value}" must not be empty`);
  const timeout = url.searchParams.get("nodeTimeoutMs");
  if (timeout !== null && !/^[1-9][0-9]{2,8}$/.test(timeout))
    throw new ConfigError(
      "store",
      `store: "nodeTimeoutMs" in "${value}" must be a whole number of milliseconds, at least 100 (got "${timeout}")`,
    );
  url.searchParams.delete("key");
  url.searchParams.delete("nodeTimeoutMs");
  return {
    kind: "redis",
    url: url.href.replace(/\?$/, ""),
    ...(key === null ? {} : { key }),
    ...(timeout === null ? {} : { nodeTimeoutMs: Number(timeout) }),
  };
}

/** A transport given in the options must at least look like one: a typo here would fail much later. */
function checkTransport(transport: Transport | undefined): Transport | undefined {
  if (transport === undefined) return undefined;
  for (const method of ["append", "after", "afterSeq", "follow", "announce", "health", "close"] as const) {
    if (typeof (transport as unknown as Record<string, unknown>)[method] !== "function")
      throw new ConfigError(
        "transport",
        `transport must implement Transport: its ${method} is not a function`,
      );
  }
  return transport;
}

function parseStore(value: StoreConfig | string | undefined): StoreConfig {
  if (value === undefined) return { kind: "sqlite", path: "./data/ssekit-hub.db" };
  if (typeof value !== "string") {
    if (value.kind === "sqlite" && value.path === "")
      throw new ConfigError("store", "store: the SQLite path is empty");
    return value;
  }
  if (value === "memory") return { kind: "memory" };
  if (value.startsWith("sqlite:")) {
    const path = value.slice("sqlite:".length);
    if (path === "")
      throw new ConfigError("store", `store must name a file after "sqlite:" (got "${value}")`);
    return { kind: "sqlite", path };
  }
  if (value === "sqlite") return { kind: "sqlite", path: "./data/ssekit-hub.db" };
  if (value.startsWith("redis://") || value.startsWith("rediss://")) return parseRedisStore(value);
  throw new ConfigError(
    "store",
    `store must be "memory", "sqlite:PATH" or "redis://HOST:PORT" (got "${value}")`,
  );
}

function flatKey(
  setting: "publisherJwtKey" | "subscriberJwtKey",
  key: string | undefined,
  alg: string | undefined,
): KeyConfig | undefined {
  const algSetting = setting === "publisherJwtKey" ? "publisherJwtAlg" : "subscriberJwtAlg";
  if (key === undefined) {
    if (alg !== undefined && !isAlgorithm(alg)) throw badAlg(algSetting, alg);
    return undefined;
  }
  if (key === "") throw new ConfigError(setting, `${setting} must not be empty`);
  const algorithm = alg ?? "HS256";
  if ((HMAC_ALGORITHMS as readonly string[]).includes(algorithm)) {
    checkSecret(setting, algorithm as HmacAlgorithm, key);
    return { alg: algorithm as HmacAlgorithm, secret: key };
  }
  if ((PUBLIC_KEY_ALGORITHMS as readonly string[]).includes(algorithm)) {
    checkPublicKey(setting, algorithm, key);
    return { alg: algorithm as PublicKeyAlgorithm, publicKey: key };
  }
  throw badAlg(algSetting, algorithm);
}

function isAlgorithm(alg: string): boolean {
  return (
    (HMAC_ALGORITHMS as readonly string[]).includes(alg) ||
    (PUBLIC_KEY_ALGORITHMS as readonly string[]).includes(alg)
  );
}

function badAlg(setting: string, alg: string): ConfigError {
  return new ConfigError(
    setting,
    `${setting} must be one of ${[...HMAC_ALGORITHMS, ...PUBLIC_KEY_ALGORITHMS].join(", ")} (got "${alg}")`,
  );
}

function checkKey(setting: string, key: KeyConfig | undefined): KeyConfig | undefined {
  if (key === undefined) return undefined;
  if ("jwksUrl" in key) {
    checkJwksUrl(setting, key.jwksUrl);
    return key;
  }
  if ("secret" in key) {
    if (!HMAC_ALGORITHMS.includes(key.alg)) throw badAlg(setting, key.alg);
    checkSecret(setting, key.alg, key.secret);
    return key;
  }
  if (!PUBLIC_KEY_ALGORITHMS.includes(key.alg)) throw badAlg(setting, key.alg);
  checkPublicKey(setting, key.alg, key.publicKey);
  return key;
}

function makeLogger(input: HubConfigInput): Logger {
  if (typeof input.logger === "object") return input.logger;
  const level = input.logger ?? input.logLevel ?? (process.env.NODE_TEST_CONTEXT ? "silent" : "info");
  if (!LEVELS.includes(level)) {
    const setting = input.logger !== undefined ? "logger" : "logLevel";
    throw new ConfigError(setting, `${setting} must be one of ${LEVELS.join(", ")} (got "${level}")`);
  }
  return pino({ name: "ssekit-hub", level });
}

/** Validates `input` and fills in defaults. Throws `ConfigError` naming the first wrong setting. */
export function resolveConfig(input: HubConfigInput): HubConfig {
  const jwks: KeyConfig | undefined =
    input.jwksUrl !== undefined && input.jwksUrl !== "" ? { jwksUrl: input.jwksUrl } : undefined;
  // Checked even when a fixed key takes precedence: a wrong value is never silently ignored.
  if (jwks !== undefined) checkKey("jwksUrl", jwks);
  const publisherKey =
    checkKey("publisherKey", input.publisherKey) ??
    flatKey("publisherJwtKey", input.publisherJwtKey, input.publisherJwtAlg) ??
    checkKey("jwksUrl", jwks);
  const subscriberKey =
    checkKey("subscriberKey", input.subscriberKey) ??
    flatKey("subscriberJwtKey", input.subscriberJwtKey, input.subscriberJwtAlg ?? input.publisherJwtAlg) ??
    (jwks !== undefined && input.publisherKey === undefined && input.publisherJwtKey === undefined
      ? jwks
      : publisherKey);
  const cors = origins("corsOrigins", input.corsOrigins) ?? origins("cors", input.cors) ?? [];
  const port = positiveInt("port", input.port, 3000, true);
  if (port > 65535) throw new ConfigError("port", `port must be between 0 and 65535 (got ${port})`);
  const host = input.host ?? "127.0.0.1";
  if (host === "") throw new ConfigError("host", "host must not be empty");
  if (input.tls !== undefined) checkTls(input.tls);
  const resourceIdentifier = input.resourceIdentifier;
  if (resourceIdentifier !== undefined && !URL.canParse(resourceIdentifier))
    throw new ConfigError(
      "resourceIdentifier",
      `resourceIdentifier must be an absolute URL such as https://hub.example.com/.well-known/mercure (got "${resourceIdentifier}")`,
    );
  return {
    publisherKey,
    subscriberKey,
    anonymous: input.anonymous ?? false,
    resourceIdentifier,
    store: parseStore(input.store),
    transport: checkTransport(input.transport),
    historyMaxEvents: positiveInt("historyMaxEvents", input.historyMaxEvents, 100_000),
    historyMaxAgeMs: positiveInt("historyMaxAgeMs", input.historyMaxAgeMs, 86_400_000),
    cors,
    publishOrigins: publishOrigins(input.publishOrigins) ?? cors.filter((origin) => origin !== "*"),
    subscriptions: input.subscriptions ?? true,
    heartbeatMs: timerMs("heartbeatMs", input.heartbeatMs, 15_000, true),
    maxBodyBytes: positiveInt("maxBodyBytes", input.maxBodyBytes, 1_048_576),
    bodyTimeoutMs: timerMs("bodyTimeoutMs", input.bodyTimeoutMs, 30_000),
    maxPollTimeoutMs: timerMs("maxPollTimeoutMs", input.maxPollTimeoutMs, 30_000, true),
    maxBufferedBytes: positiveInt("maxBufferedBytes", input.maxBufferedBytes, 4_194_304),
    maxPollBytes: positiveInt("maxPollBytes", input.maxPollBytes, 1_048_576),
    maxPatternSelectors: positiveInt("maxPatternSelectors", input.maxPatternSelectors, 32),
    maxDistinctPatterns: positiveInt("maxDistinctPatterns", input.maxDistinctPatterns, 5_000),
    retryMs: positiveInt("retryMs", input.retryMs, 2_000, true),
    ui: input.ui ?? true,
    dev: input.dev ?? false,
    port,
    host,
    tls: input.tls,
    logger: makeLogger(input),
  };
}
