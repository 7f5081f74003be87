/**
 * The one place a request's token is found and verified, for subscribers and publishers (with the
 * Origin rule for cookie tokens): returns its `Rights`, or throws HttpError 401/403 or AuthError.
 * Not responsible for what the rights allow (domain/auth.ts).
 */

import type { HubConfig } from "../config.js";
import { ANONYMOUS, AuthError, findToken, type Rights, Verifier } from "../domain/auth.js";
import { TokenCache, type TokenVerifier } from "../domain/token-cache.js";
import { HttpError, type RequestHead } from "../http/http.js";

/** Clients send the same JWT again and again: a verified token is reused until it expires. */
const cached = (verifier: Verifier): TokenVerifier => new TokenCache(verifier);

export class Authenticator {
  readonly #publisher: TokenVerifier | undefined;
  readonly #subscriber: TokenVerifier | undefined;
  readonly #config: HubConfig;

  constructor(config: HubConfig) {
    this.#config = config;
    this.#publisher =
      config.publisherKey && cached(new Verifier(config.publisherKey, config.resourceIdentifier));
    this.#subscriber =
      config.subscriberKey && cached(new Verifier(config.subscriberKey, config.resourceIdentifier));
  }

  /**
   * The rights of a subscribing request: its verified token, else anonymous when `anonymous` (the
   * hub's setting for streams and polls; never for the subscriptions API).
   */
  async subscriber(
    req: RequestHead,
    query: URLSearchParams,
    options: { readonly anonymous: boolean },
  ): Promise<Rights> {
    const found = findToken(req.headers, query);
    if (found === undefined) {
      if (options.anonymous && this.#config.anonymous) return ANONYMOUS;
      throw new HttpError(
        401,
        options.anonymous
          ? "a subscriber JWT is required (Authorization: Bearer, the mercureAuthorization cookie or the authorization query parameter)"
          : "the subscriptions API requires a subscriber JWT",
        { "www-authenticate": "Bearer" },
      );
    }
    if (this.#subscriber === undefined) throw new AuthError("this hub has no subscriber key configured");
    return this.#subscriber.verify(found.token);
  }

  /**
   * The rights of a publishing request; a cookie token needs an Origin among the publish origins.
   * Throws at once what it can tell without verifying (no token, no publisher key, a malformed
   * Authorization header); not `async`, so that a verified token's rights take no more promises
   * than the token cache's own.
   */
  publisher(req: RequestHead, query: URLSearchParams): Promise<Rights> {
    const found = findToken(req.headers, query);
    if (found === undefined) {
      throw new HttpError(
        401,
        "a publisher JWT is required (Authorization: Bearer, or the mercureAuthorization cookie)",
        { "www-authenticate": "Bearer" },
      );
    }
    if (this.#publisher === undefined)
      throw new AuthError("this hub has no publisher key configured; it accepts no publishes");
    const rights = this.#publisher.verify(found.token);
    if (found.source !== "cookie") return rights;
    return rights.then((verified) => {
      const origin = req.headers.origin;
      if (typeof origin !== "string" || !this.#config.publishOrigins.includes(origin)) {
        throw new HttpError(
          403,
          `publishing with a cookie token requires an Origin among the publish origins (got ${String(origin ?? "none")})`,
        );
      }
      return verified;
    });
  }
}
