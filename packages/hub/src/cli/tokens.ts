/**
 * Mints Mercure JWTs for development and scripts: the `mercure` claim with `publish` and
 * `subscribe` topic selectors, signed with a shared secret (HS256 by default) through `jose`.
 * Used by `ssekit token`, by `ssekit pub/sub --key`, and by `--dev`'s start-up banner. Not
 * responsible for verifying tokens: that is the hub core's auth.
 */
import { SignJWT } from "jose";
import { HMAC_ALGORITHMS, type HmacAlgorithm } from "../config.js";
import { CliUsageError } from "./errors.js";

export type { HmacAlgorithm };

export interface MintOptions {
  /** The shared secret, used as UTF-8 bytes as the Mercure hub does. */
  readonly key: string;
  /** Topic selectors the bearer may publish to. Default: none (the claim is omitted). */
  readonly publish?: readonly string[];
  /** Topic selectors the bearer may subscribe to. Default: none (the claim is omitted). */
  readonly subscribe?: readonly string[];
  /** Lifetime in milliseconds; 0 means no `exp` claim. Default: 1 hour. */
  readonly ttlMs?: number;
  /** Signing algorithm. Default: HS256. */
  readonly alg?: HmacAlgorithm;
}

const HMAC = new Set<string>(HMAC_ALGORITHMS);

export function isHmacAlgorithm(alg: string): alg is HmacAlgorithm {
  return HMAC.has(alg);
}

export function parseHmacAlgorithm(text: string, origin: string): HmacAlgorithm {
  const upper = text.toUpperCase();
  if (isHmacAlgorithm(upper)) return upper;
  throw new CliUsageError(
    "BAD_VALUE",
    `${origin}: expected HS256, HS384 or HS512 (got ${JSON.stringify(text)})`,
  );
}

export async function mintToken(options: MintOptions): Promise<string> {
  const mercure: { publish?: string[]; subscribe?: string[] } = {};
  if (options.publish) mercure.publish = [...options.publish];
  if (options.subscribe) mercure.subscribe = [...options.subscribe];
  const jwt = new SignJWT({ mercure })
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setIssuedAt();
  const ttlMs = options.ttlMs ?? 3_600_000;
  if (ttlMs > 0) jwt.setExpirationTime(Math.floor((Date.now() + ttlMs) / 1000));
  return jwt.sign(new TextEncoder().encode(options.key));
}
