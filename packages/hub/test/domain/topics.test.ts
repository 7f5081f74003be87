import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ANONYMOUS, canPublish, canReceive, type Rights } from "../../src/domain/auth.js";
import { compileClaims, compileSelector, SelectorError } from "../../src/domain/topics.js";
import type { Update } from "../../src/transports/transport.js";

const matches = (selector: string, topic: string, kind: "template" | "exact" | "urlpattern" = "template") =>
  compileSelector(selector, kind).matches(topic);

describe("topic selectors", () => {
  test("* matches every topic, an exact selector only itself", () => {
    assert.equal(matches("*", "https://example.com/books/1"), true);
    assert.equal(matches("https://example.com/books/1", "https://example.com/books/1"), true);
    assert.equal(matches("https://example.com/books/1", "https://example.com/books/12"), false);
  });

  test("a simple {var} expression matches one unreserved segment, not a slash", () => {
    assert.equal(matches("https://example.com/books/{id}", "https://example.com/books/42"), true);
    assert.equal(matches("https://example.com/books/{id}", "https://example.com/books/42/reviews"), false);
    assert.equal(matches("https://example.com/books/{id}", "https://example.com/authors/42"), false);
    assert.equal(
      matches("https://example.com/books/{id}.json", "https://example.com/books/a%20b.json"),
      true,
    );
  });

  test("regular-expression characters in the literal part are literal", () => {
    assert.equal(matches("https://example.com/a.b/{id}", "https://example.com/aXb/1"), false);
    assert.equal(matches("/x+y/{id}", "/x+y/1"), true);
    assert.equal(matches("/x+y/{id}", "/xxy/1"), false);
  });

  test("{+var} matches reserved characters, {/var} path segments, {?q} a query", () => {
    assert.equal(matches("https://example.com/{+path}", "https://example.com/a/b/c"), true);
    assert.equal(matches("https://example.com/books{/id}", "https://example.com/books/1/2"), true);
    assert.equal(matches("https://example.com/books{/id}", "https://example.com/books"), true);
    assert.equal(
      matches("https://example.com/search{?q,lang}", "https://example.com/search?q=a&lang=en"),
      true,
    );
    assert.equal(matches("https://example.com/search{?q}", "https://example.com/searchx"), false);
    assert.equal(matches("/doc{#section}", "/doc#intro"), true);
    assert.equal(matches("/file{.ext}", "/file.tar.gz"), true);
    assert.equal(matches("/m{;x,y}", "/m;x=1;y=2"), true);
  });

  test("an unclosed or malformed expression is a SelectorError", () => {
    assert.throws(() => compileSelector("/books/{id", "template"), SelectorError);
    assert.throws(() => compileSelector("/books/{a b}", "template"), SelectorError);
  });

  test("exact selectors never interpret braces or *", () => {
    assert.equal(matches("/books/{id}", "/books/1", "exact"), false);
    assert.equal(matches("/books/{id}", "/books/{id}", "exact"), true);
    assert.equal(matches("*", "/anything", "exact"), false);
  });

  test("URL Pattern: :name is one segment, * is anything, regular-expression and optional groups work", () => {
    assert.equal(matches("https://example.com/books/:id", "https://example.com/books/7", "urlpattern"), true);
    assert.equal(
      matches("https://example.com/books/:id", "https://example.com/books/7/x", "urlpattern"),
      false,
    );
    assert.equal(matches("https://example.com/books/*", "https://example.com/books/7/x", "urlpattern"), true);
    assert.equal(matches("/books/:id(\\d+)", "/books/12", "urlpattern"), true);
    assert.equal(matches("/books/:id(\\d+)", "/books/twelve", "urlpattern"), false);
    assert.equal(matches("/books{/:id}?", "/books", "urlpattern"), true);
    assert.equal(matches("/books{/:id}?", "/books/3", "urlpattern"), true);
    assert.equal(matches("https://*.example.com/feed", "https://news.example.com/feed", "urlpattern"), true);
    assert.equal(
      matches("https://example.com/books/:id", "https://other.example/books/7", "urlpattern"),
      false,
    );
    assert.equal(matches("/books/:id", "not a url at all", "urlpattern"), false);
  });

  test("an invalid URL Pattern is refused with the reason", () => {
    assert.throws(() => compileSelector("/books/(unclosed", "urlpattern"), SelectorError);
    assert.throws(() => compileSelector("/books/:id(", "urlpattern"), /not a URL Pattern/);
  });

  test("claims that do not compile grant nothing", () => {
    assert.deepEqual(
      compileClaims(["/ok", "/bad/{x", 42]).map((s) => s.text),
      ["/ok"],
    );
  });
});

const rightsFor = (subscribe: string[]): Rights => ({
  ...ANONYMOUS,
  anonymous: false,
  subscribe: compileClaims(subscribe),
});
const update = (topics: string[], isPrivate: boolean): Update => ({
  id: "x",
  topics,
  data: "",
  private: isPrivate,
});

describe("authorization decisions", () => {
  test("a private update reaches a subscriber whose subscribe claim matches one of its topics", () => {
    const u = update(["/books/1", "/users/9/books"], true);
    const selectors = compileClaims(["/books/{id}"]);
    assert.equal(canReceive(u, selectors, rightsFor(["/users/9/books"])), true);
    assert.equal(canReceive(u, selectors, rightsFor(["/users/8/books"])), false);
    assert.equal(canReceive(u, selectors, ANONYMOUS), false);
  });

  test("a public update reaches any subscriber that asked for one of its topics", () => {
    assert.equal(canReceive(update(["/a"], false), compileClaims(["/a"]), ANONYMOUS), true);
    assert.equal(canReceive(update(["/a"], false), compileClaims(["/b"]), ANONYMOUS), false);
  });

  test("publishing needs every topic covered by the publish claim", () => {
    const rights: Rights = { ...ANONYMOUS, publish: compileClaims(["/books/{id}"]) };
    assert.equal(canPublish(["/books/1"], rights), true);
    assert.equal(canPublish(["/books/1", "/admin"], rights), false);
  });

  // Topics and selectors from a small alphabet so that near-misses (prefixes, one segment more,
  // template braces) are common.
  const segment = fc.constantFrom("a", "b", "books", "1", "42", "x.y", "%20", "");
  const topic = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join("/")}`);
  const selector = fc.oneof(
    topic,
    fc
      .array(fc.oneof(segment, fc.constantFrom("{id}", "{+rest}", "{/p}", "{?q}")), {
        minLength: 1,
        maxLength: 4,
      })
      .map((parts) => `/${parts.join("/")}`),
  );

  test("a subscriber never receives a private update none of whose topics its claim matches (property)", () => {
    fc.assert(
      fc.property(
        fc.array(topic, { minLength: 1, maxLength: 3 }),
        fc.array(selector, { maxLength: 3 }),
        fc.array(selector, { minLength: 1, maxLength: 3 }),
        (topics, claims, requested) => {
          const rights = rightsFor(claims);
          const granted = topics.some((t) => rights.subscribe.some((s) => s.matches(t)));
          const received = canReceive(update(topics, true), compileClaims(requested), rights);
          // Received implies granted; and, checked without the matcher: when every claim is an
          // exact string, receiving implies one of the update's topics is literally claimed.
          if (received && !granted) return false;
          if (received && claims.every((c) => !c.includes("{")) && !claims.some((c) => topics.includes(c))) {
            return false;
          }
          return true;
        },
      ),
      { numRuns: 5000 },
    );
  });

  test("anonymous subscribers never receive private updates (property)", () => {
    fc.assert(
      fc.property(
        fc.array(topic, { minLength: 1, maxLength: 3 }),
        fc.array(selector, { minLength: 1 }),
        (topics, requested) => {
          return !canReceive(update(topics, true), compileClaims(requested), ANONYMOUS);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
