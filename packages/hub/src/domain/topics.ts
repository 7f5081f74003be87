/**
 * Topic selectors: does a topic match a selector? The kinds of the Mercure protocol: `*` (every
 * topic), URI templates (RFC 6570 expressions read as patterns, used by 0.x `topic` and in JWT
 * claims, matched by template.ts), exact strings (1.0 `match`), and URL Patterns (1.0
 * `match_urlpattern`, urlpattern.ts).
 * Compiled patterns are cached. Not responsible for deciding who may see what (auth.ts).
 */

import { compileTemplate, TemplateSyntaxError } from "./template.js";
import { compileUrlPattern, PatternTooComplexError } from "./urlpattern.js";

export type SelectorKind = "template" | "exact" | "urlpattern";

// Topics and selectors are identifiers: no C0 or C1 control characters and no DEL (Mercure,
// "Terminology" and "Subscription").
// biome-ignore lint/suspicious/noControlCharactersInRegex: this pattern exists to find them
export const TOPIC_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Event ids and types end up on one SSE line: control characters other than tab are refused in
// them (publish.ts), and so a last event id holding one names no event (selectors.ts).
// biome-ignore lint/suspicious/noControlCharactersInRegex: this pattern exists to find them
export const EVENT_ID_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** A selector that cannot be compiled (for example an unsupported URL Pattern feature). */
export class SelectorError extends Error {
  readonly code = "INVALID_SELECTOR";
  constructor(
    readonly selector: string,
    reason: string,
  ) {
    super(`topic selector "${selector}" is invalid: ${reason}`);
    this.name = "SelectorError";
  }
}

/** A compiled selector: the original text and a test. */
export interface Selector {
  readonly text: string;
  readonly kind: SelectorKind;
  matches(topic: string): boolean;
}

const cache = new Map<string, Selector>();

/**
 * A selector that matches its own text and nothing else. Made afresh each time, not cached: it
 * costs nothing to compile, and a method on the prototype instead of a closure keeps each one of
 * an idle subscriber's selectors to one small object.
 */
class ExactSelector implements Selector {
  constructor(
    readonly text: string,
    readonly kind: SelectorKind,
  ) {}
  matches(topic: string): boolean {
    return topic === this.text;
  }
}

/** The one topic `selector` matches when it matches only that topic, else undefined (a pattern). */
export function exactTopic(selector: Selector): string | undefined {
  return selector instanceof ExactSelector ? selector.text : undefined;
}

const CACHE_LIMIT = 10_000;

/**
 * The same selector, remembering its last answer: a dispatch asks every subscriber of a shared
 * pattern about the same topic in a row, so the pattern runs once per topic, not once per subscriber.
 */
function rememberLast(selector: Selector): Selector {
  let lastTopic: string | undefined;
  let lastAnswer = false;
  return {
    text: selector.text,
    kind: selector.kind,
    matches: (topic) => {
      if (topic !== lastTopic) {
        lastAnswer = selector.matches(topic);
        lastTopic = topic;
      }
      return lastAnswer;
    },
  };
}

/** Compiles a selector (patterns are cached). Throws `SelectorError` when it cannot be compiled. */
export function compileSelector(text: string, kind: SelectorKind = "template"): Selector {
  if (kind === "exact" || (kind === "template" && text !== "*" && !text.includes("{")))
    return new ExactSelector(text, kind);
  const key = `${kind}\u0000${text}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let selector: Selector;
  if (text === "*") {
    selector = { text, kind, matches: () => true };
  } else if (kind === "urlpattern") {
    let test: (topic: string) => boolean;
    try {
      test = compileUrlPattern(text);
    } catch (error) {
      if (error instanceof PatternTooComplexError) throw new SelectorError(text, error.message);
      throw new SelectorError(text, `not a URL Pattern: ${(error as Error).message}`);
    }
    selector = rememberLast({ text, kind, matches: (topic) => topic === text || test(topic) });
  } else {
    let test: (topic: string) => boolean;
    try {
      test = compileTemplate(text);
    } catch (error) {
      if (error instanceof TemplateSyntaxError) throw new SelectorError(text, error.message);
      throw error;
    }
    selector = rememberLast({ text, kind, matches: (topic) => topic === text || test(topic) });
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, selector);
  return selector;
}

/** True when any of `topics` matches any of `selectors`. */
export function anyMatch(topics: readonly string[], selectors: readonly Selector[]): boolean {
  for (const selector of selectors) {
    for (const topic of topics) if (selector.matches(topic)) return true;
  }
  return false;
}

/** Compiles claim selectors (URI templates, `*`, exact), skipping ones that do not compile: a bad claim grants nothing. */
export function compileClaims(claims: readonly unknown[]): readonly Selector[] {
  const out: Selector[] = [];
  for (const claim of claims) {
    if (typeof claim !== "string") continue;
    try {
      out.push(compileSelector(claim, "template"));
    } catch {
      // A selector that does not compile matches nothing.
    }
  }
  return out;
}
