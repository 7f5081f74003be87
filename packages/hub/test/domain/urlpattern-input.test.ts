// URL Patterns chosen by subscribers (domain/urlpattern.ts): patterns whose backtracking could run
// for minutes are 400 with the reason, common ones stay accepted.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { assertRefused, startEdgeHub } from "../support/edge-support.js";
import type { Started } from "../support/hub-support.js";

let started: Started;
before(async () => {
  started = await startEdgeHub();
});
after(() => started.hub.close());

describe("URL Patterns from subscribers", () => {
  const head = (pattern: string) =>
    fetch(`${started.endpoint}?match_urlpattern=${encodeURIComponent(pattern)}`, { method: "HEAD" });

  test("patterns whose backtracking could run for minutes are 400 with the reason", async () => {
    // "*:a*:b*:c*:d" against a 200-character topic ran for over a minute before this bound.
    for (const pattern of ["*:a*:b*:c*:d", "/:a-:b-:c", "/{:a}*"]) {
      await assertRefused(
        await fetch(`${started.endpoint}?match_urlpattern=${encodeURIComponent(pattern)}`),
        400,
        /more than 2 groups .* between two "\/"/,
      );
    }
    await assertRefused(
      await fetch(`${started.endpoint}?match_urlpattern=${encodeURIComponent("/*/a/*/b/*")}`),
      400,
      /at most 2 \* wildcards/,
    );
    await assertRefused(
      await fetch(`${started.endpoint}?match_urlpattern=${encodeURIComponent("/:id(a+b+)")}`),
      400,
      /at most one quantifier/,
    );
  });

  test("common patterns stay accepted", async () => {
    for (const pattern of [
      "https://example.com/books/:id",
      "https://example.com/books/:id(\\d+)",
      "https://*.example.com/*",
      "/users/:uid/books/:id.:format",
      "/books{/:part}?",
      "/files/:path+",
    ]) {
      const response = await head(pattern);
      assert.equal(response.status, 200, `${pattern}: ${response.status}`);
    }
  });
});
