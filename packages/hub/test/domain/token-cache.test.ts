// The verified-token cache in front of the real jose-backed Verifier: reuse until exp or max age,
// refusals never cached, bounded size. A counting wrapper shows when the verifier really ran.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AuthError, type Rights, Verifier } from "../../src/domain/auth.js";
import { TokenCache, type TokenVerifier } from "../../src/domain/token-cache.js";
import { SECRET, token } from "../support/hub-support.js";

class Counting implements TokenVerifier {
  calls = 0;
  readonly #verifier = new Verifier({ alg: "HS256", secret: SECRET });
  verify(jwt: string): Promise<Rights> {
    this.calls++;
    return this.#verifier.verify(jwt);
  }
}

describe("token cache", () => {
  test("verifies a token once and reuses its rights while it is valid", async () => {
    const verifier = new Counting();
    const cache = new TokenCache(verifier);
    const jwt = await token({ publish: ["/books/{id}"] }, { expiresIn: "1h" });
    const first = await cache.verify(jwt);
    const second = await cache.verify(jwt);
    assert.equal(verifier.calls, 1);
    assert.equal(second, first);
    assert.ok(second.publish[0]?.matches("/books/1"));
  });

  test("asks the verifier again once the token's exp has passed", async () => {
    const verifier = new Counting();
    let now = Date.now();
    const cache = new TokenCache(verifier, { maxAgeMs: 7_200_000, now: () => now });
    const jwt = await token({ subscribe: ["*"] }, { expiresIn: "1h" });
    const rights = await cache.verify(jwt);
    assert.ok(rights.expiresAt !== undefined);
    now = rights.expiresAt - 1;
    await cache.verify(jwt);
    assert.equal(verifier.calls, 1);
    now = rights.expiresAt;
    await cache.verify(jwt); // the real clock says the token is still valid, so it verifies again
    assert.equal(verifier.calls, 2);
  });

  test("an expired token is refused with the verifier's reason and is never cached", async () => {
    const verifier = new Counting();
    const cache = new TokenCache(verifier);
    const expired = await token({ publish: ["*"] }, { expiresIn: Math.floor(Date.now() / 1000) - 10 });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(cache.verify(expired), (error: unknown) => {
        assert.ok(error instanceof AuthError);
        assert.match(error.message, /expired/);
        return true;
      });
    }
    assert.equal(verifier.calls, 2);
    assert.equal(cache.size, 0);
  });

  test("a token signed with another key is refused every time", async () => {
    const verifier = new Counting();
    const cache = new TokenCache(verifier);
    const forged = await token(
      { publish: ["*"] },
      { key: new TextEncoder().encode("another-secret-another-secret!!") },
    );
    await assert.rejects(cache.verify(forged), AuthError);
    await assert.rejects(cache.verify(forged), AuthError);
    assert.equal(verifier.calls, 2);
  });

  test("reuses a token without exp for at most maxAgeMs", async () => {
    const verifier = new Counting();
    let now = Date.now();
    const cache = new TokenCache(verifier, { maxAgeMs: 1_000, now: () => now });
    const jwt = await token({ publish: ["*"] });
    await cache.verify(jwt);
    now += 999;
    await cache.verify(jwt);
    assert.equal(verifier.calls, 1);
    now += 1;
    await cache.verify(jwt);
    assert.equal(verifier.calls, 2);
  });

  test("keeps at most maxEntries tokens, forgetting the oldest first", async () => {
    const verifier = new Counting();
    const cache = new TokenCache(verifier, { maxEntries: 2 });
    const jwts = await Promise.all([1, 2, 3].map((n) => token({ publish: [`/t/${n}`] })));
    for (const jwt of jwts) await cache.verify(jwt);
    assert.equal(cache.size, 2);
    await cache.verify(jwts[2] ?? "");
    await cache.verify(jwts[1] ?? "");
    assert.equal(verifier.calls, 3);
    await cache.verify(jwts[0] ?? "");
    assert.equal(verifier.calls, 4);
  });
});
