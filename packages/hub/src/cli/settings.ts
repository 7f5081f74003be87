/**
 * The table of hub settings the command line understands: for each one its flags, its environment
 * variables (the Mercure names where Mercure has one), its key in a JSON config file, the kind of
 * value and the help line. Flags, environment and config file are all read through this one table,
 * so they cannot drift apart. Not responsible for reading them (args.ts, env.ts, config-file.ts) or
 * for precedence (resolve.ts).
 */

export type SettingKind = "string" | "integer" | "port" | "duration" | "boolean" | "list";

export interface SettingSpec {
  /** The setting's name, also its key in a JSON config file. */
  readonly name: SettingName;
  /** Flags without the leading `--`, most specific first (`--publisher-jwt-key` before `--jwt-key`). */
  readonly flags: readonly string[];
  /** Environment variables, most specific first (`MERCURE_PUBLISHER_JWT_KEY` before `MERCURE_JWT_KEY`). */
  readonly env: readonly string[];
  readonly kind: SettingKind;
  /** Shown by `ssekit hub --help`; empty for a setting that shares a flag documented elsewhere. */
  readonly help: string;
  /** The value placeholder in help, such as `PORT`. */
  readonly placeholder?: string;
}

export const SETTING_NAMES = [
  "port",
  "host",
  "store",
  "workers",
  "anonymous",
  "noSubscriptions",
  "resourceIdentifier",
  "corsOrigins",
  "publisherJwtKey",
  "subscriberJwtKey",
  "publisherJwtAlg",
  "subscriberJwtAlg",
  "jwksUrl",
  "historyMaxEvents",
  "historyMaxAge",
  "heartbeat",
  "maxPollBytes",
  "maxPatternSelectors",
  "maxDistinctPatterns",
  "tlsCert",
  "tlsKey",
  "logLevel",
] as const;

export type SettingName = (typeof SETTING_NAMES)[number];

export const SETTINGS: readonly SettingSpec[] = [
  {
    name: "port",
    flags: ["port"],
    env: ["SSEKIT_PORT", "PORT"],
    kind: "port",
    placeholder: "PORT",
    help: "TCP port to listen on; 0 picks a free one (default 3000)",
  },
  {
    name: "host",
    flags: ["host"],
    env: ["SSEKIT_HOST"],
    kind: "string",
    placeholder: "HOST",
    help: "address to bind; 0.0.0.0 for every interface (default 127.0.0.1)",
  },
  {
    name: "store",
    flags: ["store"],
    env: ["SSEKIT_STORE"],
    kind: "string",
    placeholder: "STORE",
    help: "memory | sqlite:PATH | redis://HOST:PORT (default sqlite:./data/ssekit-hub.db)",
  },
  {
    name: "workers",
    flags: ["workers"],
    env: ["SSEKIT_WORKERS"],
    kind: "integer",
    placeholder: "N",
    help: "hub processes sharing the port, one per core; needs --store redis://... (default 1)",
  },
  {
    name: "anonymous",
    flags: ["anonymous"],
    env: ["MERCURE_ANONYMOUS"],
    kind: "boolean",
    help: "let subscribers without a JWT receive public updates",
  },
  {
    name: "noSubscriptions",
    flags: ["no-subscriptions"],
    env: ["SSEKIT_NO_SUBSCRIPTIONS"],
    kind: "boolean",
    help: "turn off the subscriptions API and subscription events",
  },
  {
    name: "resourceIdentifier",
    flags: ["resource-identifier"],
    env: ["SSEKIT_RESOURCE_IDENTIFIER"],
    kind: "string",
    placeholder: "URL",
    help: "the hub's public URL; when set, JWTs must name it in aud (RFC 9068)",
  },
  {
    name: "corsOrigins",
    flags: ["cors"],
    env: ["MERCURE_CORS_ALLOWED_ORIGINS"],
    kind: "list",
    placeholder: "ORIGIN",
    help: "allowed CORS origin; repeat or separate with commas; * for any",
  },
  {
    name: "publisherJwtKey",
    flags: ["publisher-jwt-key", "jwt-key"],
    env: ["MERCURE_PUBLISHER_JWT_KEY", "MERCURE_JWT_KEY"],
    kind: "string",
    placeholder: "KEY",
    help: "secret (HS*) or PEM public key (RS*/ES*) verifying publisher JWTs",
  },
  {
    name: "subscriberJwtKey",
    flags: ["subscriber-jwt-key", "jwt-key"],
    env: ["MERCURE_SUBSCRIBER_JWT_KEY", "MERCURE_JWT_KEY"],
    kind: "string",
    placeholder: "KEY",
    help: "key verifying subscriber JWTs (--jwt-key sets both keys)",
  },
  {
    name: "publisherJwtAlg",
    flags: ["publisher-jwt-alg", "jwt-alg"],
    env: ["MERCURE_PUBLISHER_JWT_ALG", "MERCURE_JWT_ALG"],
    kind: "string",
    placeholder: "ALG",
    help: "publisher JWT algorithm, e.g. HS256 or RS256 (default HS256; --jwt-alg sets both)",
  },
  {
    name: "subscriberJwtAlg",
    flags: ["subscriber-jwt-alg", "jwt-alg"],
    env: ["MERCURE_SUBSCRIBER_JWT_ALG", "MERCURE_JWT_ALG"],
    kind: "string",
    placeholder: "ALG",
    help: "subscriber JWT algorithm (default HS256)",
  },
  {
    name: "jwksUrl",
    flags: ["jwks-url"],
    env: ["MERCURE_JWKS_URL"],
    kind: "string",
    placeholder: "URL",
    help: "JSON Web Key Set URL verifying JWTs instead of a fixed key",
  },
  {
    name: "historyMaxEvents",
    flags: ["history-max-events"],
    env: ["SSEKIT_HISTORY_MAX_EVENTS"],
    kind: "integer",
    placeholder: "N",
    help: "keep at most N updates for replay (default 100000)",
  },
  {
    name: "historyMaxAge",
    flags: ["history-max-age"],
    env: ["SSEKIT_HISTORY_MAX_AGE"],
    kind: "duration",
    placeholder: "DURATION",
    help: "drop updates older than this from the history (default 24h)",
  },
  {
    name: "heartbeat",
    flags: ["heartbeat"],
    env: ["SSEKIT_HEARTBEAT", "MERCURE_HEARTBEAT"],
    kind: "duration",
    placeholder: "DURATION",
    help: "comment sent to idle subscribers this often; 0 for none (default 15s)",
  },
  {
    name: "maxPollBytes",
    flags: ["max-poll-bytes"],
    env: ["SSEKIT_MAX_POLL_BYTES"],
    kind: "integer",
    placeholder: "N",
    help: "bytes of events in one poll answer, at least one event (default 1048576)",
  },
  {
    name: "maxPatternSelectors",
    flags: ["max-pattern-selectors"],
    env: ["SSEKIT_MAX_PATTERN_SELECTORS"],
    kind: "integer",
    placeholder: "N",
    help: "URI templates, URL Patterns and * one subscription may carry (default 32)",
  },
  {
    name: "maxDistinctPatterns",
    flags: ["max-distinct-patterns"],
    env: ["SSEKIT_MAX_DISTINCT_PATTERNS"],
    kind: "integer",
    placeholder: "N",
    help: "distinct pattern selectors of all open subscriptions together (default 5000)",
  },
  {
    name: "tlsCert",
    flags: ["tls-cert"],
    env: ["SSEKIT_TLS_CERT"],
    kind: "string",
    placeholder: "FILE",
    help: "PEM certificate file; with --tls-key serves HTTPS (HTTP/2 and HTTP/1.1)",
  },
  {
    name: "tlsKey",
    flags: ["tls-key"],
    env: ["SSEKIT_TLS_KEY"],
    kind: "string",
    placeholder: "FILE",
    help: "PEM private key file for --tls-cert",
  },
  {
    name: "logLevel",
    flags: ["log-level"],
    env: ["SSEKIT_LOG_LEVEL"],
    kind: "string",
    placeholder: "LEVEL",
    help: "fatal | error | warn | info | debug | trace | silent (default info)",
  },
];

/** Every distinct flag with the kind of its value, for `node:util` parseArgs. */
export function flagKinds(): ReadonlyMap<string, SettingKind> {
  const kinds = new Map<string, SettingKind>();
  for (const spec of SETTINGS) for (const flag of spec.flags) kinds.set(flag, spec.kind);
  return kinds;
}

export function settingSpec(name: SettingName): SettingSpec {
  const spec = SETTINGS.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown setting ${name}`);
  return spec;
}
