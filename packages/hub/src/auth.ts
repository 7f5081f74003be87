/**
 * Authorization: finds the JWT of a request (Authorization header, `authorization` query
 * parameter, `mercureAuthorization` cookie), verifies it with `jose` against the configured key
 * (secret, PEM public key or JWKS URL; the algorithm list is pinned to the key so `alg: none` and
 * HS-signed-with-the-public-key tokens fail), reads the `mercure` claim into publish and subscribe
 * selectors, and decides whether a subscriber may receive an update. Not responsible for HTTP
 * responses (the routes map `AuthError` to 401).
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import type { KeyConfig } from "./config.js";
import type { Update } from "./stores/store.js";
import { anyMatch, compileClaims, type Selector } from "./topics.js";

/** Why a token was refused; always answered with 401. */
export class AuthError extends Error {
  readonly code = "UNAUTHORIZED";
  constructor(message: string) {
    super(message);
    this.name = "AuthError";
  }
}

/** What a verified token (or anonymity) allows. */
export interface Rights {
  /** Selectors of the `mercure.subscribe` claim: private updates on matching topics. */
  readonly subscribe: readonly Selector[];
  /** Selectors of the `mercure.publish` claim. */
  readonly publish: readonly Selector[];
  /** The `mercure.payload` claim, copied into subscription events. */
  readonly payload: unknown;
  /** Expiry in milliseconds since the epoch, when the token has one. */
  readonly expiresAt: number | undefined;
  readonly anonymous: boolean;
}

export const ANONYMOUS: Rights = {
  subscribe: [],
  publish: [],
  payload: undefined,
  expiresAt: undefined,
  anonymous: true,
};

/** Where a token was found; cookie tokens are subject to the publish origin check. */
export interface FoundToken {
  readonly token: string;
  readonly source: "header" | "query" | "cookie";
}

export const COOKIE_NAME = "mercureAuthorization";

function cookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** The request's token, if any: header first, then query parameter, then cookie. */
export function findToken(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  query: URLSearchParams,
): FoundToken | undefined {
  const header = headers.authorization;
  if (typeof header === "string" && header !== "") {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match?.[1] === undefined) throw new AuthError('the Authorization header must be "Bearer <JWT>"');
    return { token: match[1], source: "header" };
  }
  const param = query.get("authorization");
  if (param !== null && param !== "") return { token: param, source: "query" };
  const cookieHeader = headers.cookie;
  const fromCookie = cookie(
    Array.isArray(cookieHeader) ? cookieHeader.join("; ") : cookieHeader,
    COOKIE_NAME,
  );
  if (fromCookie !== undefined && fromCookie !== "") return { token: fromCookie, source: "cookie" };
  return undefined;
}

type Key = Uint8Array | KeyObject | ReturnType<typeof createRemoteJWKSet>;

const JWKS_ALGORITHMS = [
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

/** A verifier bound to one key configuration. */
export class Verifier {
  readonly #key: Key;
  readonly #algorithms: string[];

  constructor(config: KeyConfig) {
    if ("jwksUrl" in config) {
      this.#key = createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: 5_000 });
      this.#algorithms = JWKS_ALGORITHMS;
    } else if ("secret" in config) {
      this.#key = new TextEncoder().encode(config.secret);
      this.#algorithms = [config.alg];
    } else {
      this.#key = createPublicKey(config.publicKey);
      this.#algorithms = [config.alg];
    }
  }

  /** Verifies `token` and returns its rights; throws `AuthError` with the reason. */
  async verify(token: string): Promise<Rights> {
    let payload: JWTPayload;
    try {
      const key = this.#key;
      const result =
        typeof key === "function"
          ? await jwtVerify(token, key, { algorithms: this.#algorithms })
          : await jwtVerify(token, key, { algorithms: this.#algorithms });
      payload = result.payload;
    } catch (error) {
      throw new AuthError(reason(error));
    }
    const claim = payload.mercure;
    const mercure = typeof claim === "object" && claim !== null ? (claim as Record<string, unknown>) : {};
    const list = (value: unknown) => (Array.isArray(value) ? (value as unknown[]) : []);
    return {
      subscribe: compileClaims(list(mercure.subscribe)),
      publish: compileClaims(list(mercure.publish)),
      payload: mercure.payload,
      expiresAt: typeof payload.exp === "number" ? payload.exp * 1000 : undefined,
      anonymous: false,
    };
  }
}

function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the JWT has expired; get a fresh token";
  if (error instanceof errors.JOSEAlgNotAllowed)
    return "the JWT is signed with an algorithm this hub does not accept";
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return "the JWT signature is invalid for this hub's key";
  if (error instanceof errors.JWKSNoMatchingKey) return "no key of the JWKS matches the JWT";
  if (error instanceof errors.JWTClaimValidationFailed)
    return `the JWT claim "${error.claim}" is invalid: ${error.reason}`;
  if (error instanceof errors.JOSEError) return `the JWT is invalid (${error.code})`;
  return "the JWT could not be verified";
}

/** May a subscriber with `rights`, who asked for `selectors`, receive `update`? */
export function canReceive(update: Update, selectors: readonly Selector[], rights: Rights): boolean {
  if (!anyMatch(update.topics, selectors)) return false;
  return !update.private || anyMatch(update.topics, rights.subscribe);
}

/** May a publisher with `rights` publish on every one of `topics`? */
export function canPublish(topics: readonly string[], rights: Rights): boolean {
  return topics.every((topic) => rights.publish.some((selector) => selector.matches(topic)));
}
