/**
 * A cache of verified tokens in front of a `Verifier`: a token that verified once counts as verified
 * until its `exp`, and for at most `maxAgeMs`; refusals are not cached. Not responsible for
 * verification itself (auth.ts) nor for what the rights allow.
 */
import type { Rights } from "./auth.js";

/** What the cache needs from a verifier (auth.ts `Verifier` has it). */
export interface TokenVerifier {
  verify(token: string): Promise<Rights>;
}

export interface TokenCacheOptions {
  /** Tokens remembered at most; the oldest is forgotten first. Default: 10,000. */
  readonly maxEntries?: number;
  /** Milliseconds a verification is reused at most, even when the token expires later. Default: 60,000. */
  readonly maxAgeMs?: number;
  /** The clock, in milliseconds since the epoch. Default: `Date.now`. */
  readonly now?: () => number;
}

interface Entry {
  /** The rights, as the promise every reuse returns (one for all of them). */
  readonly rights: Promise<Rights>;
  /** Reuse until this time (ms since the epoch): the earlier of the token's exp and the max age. */
  readonly until: number;
}

export class TokenCache implements TokenVerifier {
  readonly #verifier: TokenVerifier;
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(verifier: TokenVerifier, options: TokenCacheOptions = {}) {
    this.#verifier = verifier;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxAgeMs = options.maxAgeMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** The rights of `token`, from the cache while still valid, else from the verifier. */
  verify(token: string): Promise<Rights> {
    const entry = this.#entries.get(token);
    if (entry !== undefined) {
      // Strictly before: a token whose exp is now is expired (RFC 7519 section 4.1.4).
      if (this.#now() < entry.until) return entry.rights;
      this.#entries.delete(token);
    }
    return this.#verifier.verify(token).then((rights) => {
      this.#remember(token, rights);
      return rights;
    });
  }

  get size(): number {
    return this.#entries.size;
  }

  #remember(token: string, rights: Rights): void {
    const now = this.#now();
    const until = Math.min(rights.expiresAt ?? Number.POSITIVE_INFINITY, now + this.#maxAgeMs);
    if (until <= now) return;
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, { rights: Promise.resolve(rights), until });
  }
}
