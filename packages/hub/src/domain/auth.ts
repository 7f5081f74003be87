/**
 * Authorization: finds a request's JWT (header, query, cookie), verifies it with `jose` against
 * the configured key with its algorithms pinned, reads the publish and subscribe rights of both
 * token generations, and decides whether a subscriber may receive an update. Not responsible for
 * HTTP responses (the routes map `AuthError` to 401).
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import { type KeyConfig, PUBLIC_KEY_ALGORITHMS } from "../config.js";
import { anyMatch, compileSelector, type Selector } from "./topics.js";
import type { Update } from "./update.js";

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
/** The cookie a Mercure 1.0 hub reads. */
export const ACCESS_TOKEN_COOKIE_NAME = "__Secure-mercure_access_token";

function cookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      throw new AuthError(`the ${name} cookie has a malformed percent escape; it must hold a JWT`);
    }
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
  const cookies = Array.isArray(cookieHeader) ? cookieHeader.join("; ") : cookieHeader;
  const fromCookie = cookie(cookies, ACCESS_TOKEN_COOKIE_NAME) ?? cookie(cookies, COOKIE_NAME);
  if (fromCookie !== undefined && fromCookie !== "") return { token: fromCookie, source: "cookie" };
  return undefined;
}

type Key = Uint8Array | KeyObject | ReturnType<typeof createRemoteJWKSet>;

/** A verifier bound to one key configuration. */
export class Verifier {
  readonly #key: Key;
  readonly #algorithms: string[];
  readonly #audience: string | undefined;

  /** `audience`: when given, a token must name it in its `aud` claim. */
  constructor(config: KeyConfig, audience?: string) {
    this.#audience = audience;
    if ("jwksUrl" in config) {
      this.#key = createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: 5_000 });
      // A JWKS holds public keys: every public-key algorithm, never an HMAC one.
      this.#algorithms = [...PUBLIC_KEY_ALGORITHMS];
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
          ? await jwtVerify(token, key, { algorithms: this.#algorithms, audience: this.#audience })
          : await jwtVerify(token, key, { algorithms: this.#algorithms, audience: this.#audience });
      payload = result.payload;
    } catch (error) {
      throw new AuthError(reason(error));
    }
    return rightsOf(payload);
  }
}

/** The `type` of the RFC 9396 authorization details that Mercure 1.0 access tokens carry. */
export const AUTHORIZATION_DETAIL_TYPE = "https://mercure.rocks/authorization-detail";

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * One topic grant: a string (0.x claims: a URI template, or `*`) or a 1.0 object
 * `{ match, match_type? }` where `match_type` is `"exact"` (the default) or `"urlpattern"`, and
 * `{ match: "*" }` grants every topic. Throws `AuthError` for a malformed 1.0 grant, as a token
 * whose meaning is unclear must not be half-honoured; a 0.x selector that does not compile only
 * grants nothing, as before.
 */
function grant(value: unknown, where: string): Selector | undefined {
  if (typeof value === "string") {
    try {
      return compileSelector(value, "template");
    } catch {
      return undefined;
    }
  }
  if (!isObject(value) || typeof value.match !== "string" || value.match === "")
    throw new AuthError(`${where} must be an object with a non-empty string "match"`);
  const type = value.match_type ?? "exact";
  if (type !== "exact" && type !== "urlpattern")
    throw new AuthError(`${where} has match_type ${JSON.stringify(type)}; use "exact" or "urlpattern"`);
  if (value.match === "*") return compileSelector("*", "template");
  try {
    return compileSelector(value.match, type);
  } catch (error) {
    throw new AuthError(`${where} is not a usable selector: ${(error as Error).message}`);
  }
}

function grants(list: unknown, where: string, out: Selector[]): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new AuthError(`${where} must be an array`);
  list.forEach((value: unknown, i) => {
    const selector = grant(value, `${where}[${i}]`);
    if (selector) out.push(selector);
  });
}

/**
 * The rights of a verified payload: the union of its `mercure` claim (0.x: `publish`, `subscribe`,
 * `payload`) and its Mercure authorization details (1.0: `actions` of `publish` and `subscribe`
 * over `topics`, with an optional `payload`). Details of other types belong to other resource
 * servers and are ignored.
 */
export function rightsOf(payload: JWTPayload): Rights {
  const subscribe: Selector[] = [];
  const publish: Selector[] = [];
  let subscriberPayload: unknown;
  const claim = payload.mercure;
  if (isObject(claim)) {
    grants(claim.subscribe, "the mercure.subscribe claim", subscribe);
    grants(claim.publish, "the mercure.publish claim", publish);
    subscriberPayload = claim.payload;
  }
  const details = payload.authorization_details;
  if (details !== undefined) {
    if (!Array.isArray(details)) throw new AuthError("the authorization_details claim must be an array");
    details.forEach((detail: unknown, i) => {
      if (!isObject(detail) || detail.type !== AUTHORIZATION_DETAIL_TYPE) return;
      const where = `authorization_details[${i}]`;
      const actions = detail.actions;
      if (!Array.isArray(actions) || actions.some((a) => a !== "publish" && a !== "subscribe"))
        throw new AuthError(`${where}.actions must be an array of "publish" and "subscribe"`);
      if (!Array.isArray(detail.topics)) throw new AuthError(`${where}.topics must be an array`);
      const selectors: Selector[] = [];
      grants(detail.topics, `${where}.topics`, selectors);
      if (actions.includes("publish")) publish.push(...selectors);
      if (actions.includes("subscribe")) {
        subscribe.push(...selectors);
        if (subscriberPayload === undefined) subscriberPayload = detail.payload;
      }
    });
  }
  return {
    subscribe,
    publish,
    payload: subscriberPayload,
    expiresAt: typeof payload.exp === "number" ? payload.exp * 1000 : undefined,
    anonymous: false,
  };
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
  // The rights first: a subscriber without subscribe grants (every anonymous one) skips a private
  // update at once, whatever its selectors would cost to run.
  if (update.private && (rights.subscribe.length === 0 || !anyMatch(update.topics, rights.subscribe)))
    return false;
  return anyMatch(update.topics, selectors);
}

/** May a publisher with `rights` publish on every one of `topics`? */
export function canPublish(topics: readonly string[], rights: Rights): boolean {
  // Loops rather than every/some: this runs on every publish, and callbacks cost a closure each.
  for (const topic of topics) {
    let allowed = false;
    for (const selector of rights.publish) {
      if (selector.matches(topic)) {
        allowed = true;
        break;
      }
    }
    if (!allowed) return false;
  }
  return true;
}
