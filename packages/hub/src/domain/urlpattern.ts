/**
 * URL Pattern selectors (`match_urlpattern`, and grants of that type) through `urlpattern-polyfill`,
 * as Node 20 has no global `URLPattern`; relative patterns and topics are resolved against one fixed
 * base, so they match each other. Not responsible for the other selector kinds (topics.ts).
 */
import { URLPattern } from "urlpattern-polyfill/urlpattern";

/** The base relative patterns and topics are resolved against; `.invalid` can never be a real host. */
const BASE = "https://mercure-topic.invalid/";

/**
 * A pattern whose regular expression could backtrack for a very long time: several groups that
 * can match the same characters in one path segment (`:a-:b-:c`), many `*`, or a group's own
 * regular expression with several quantifiers. URL Patterns run as backtracking regular
 * expressions and any subscriber chooses its patterns, so the Mercure protocol asks hubs to bound
 * their cost; these bounds keep every match polynomial of low degree in the topic's length.
 */
export class PatternTooComplexError extends Error {
  readonly code = "PATTERN_TOO_COMPLEX";
  constructor(message: string) {
    super(message);
    this.name = "PatternTooComplexError";
  }
}

/** Groups (`:name`, `*`, `(regexp)`, a repeated `{...}`) one "/"-separated piece may hold. */
export const MAX_GROUPS_PER_SEGMENT = 2;
/** `*` wildcards one pattern may hold. */
export const MAX_WILDCARDS = 2;

function checkComplexity(pattern: string): void {
  let groups = 0;
  let wildcards = 0;
  const tooMany = () =>
    new PatternTooComplexError(
      `more than ${MAX_GROUPS_PER_SEGMENT} groups (:name, *, (regexp)) between two "/" could make matching take very long; split them with literal "/" segments`,
    );
  /** Skips a (regexp) group starting at `open`, checking its quantifiers; returns the index of its ")". */
  const regexpGroup = (open: number): number => {
    let quantifiers = 0;
    let i = open + 1;
    for (; i < pattern.length && pattern[i] !== ")"; i++) {
      if (pattern[i] === "\\") i++;
      else if ("*+?{".includes(pattern[i] ?? "")) quantifiers++;
    }
    if (quantifiers > 1)
      throw new PatternTooComplexError("a (regexp) group may hold at most one quantifier (*, +, ?, {n,m})");
    return i;
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
    } else if (c === "/") {
      groups = 0;
    } else if (c === "(") {
      i = regexpGroup(i);
      groups++;
    } else if (c === "*") {
      groups++;
      if (++wildcards > MAX_WILDCARDS)
        throw new PatternTooComplexError(`a pattern may hold at most ${MAX_WILDCARDS} * wildcards`);
    } else if (c === ":" && /[A-Za-z_$]/.test(pattern[i + 1] ?? "")) {
      // A named group, with its own (regexp) if one follows the name: one group.
      while (/[A-Za-z0-9_$]/.test(pattern[i + 1] ?? "")) i++;
      if (pattern[i + 1] === "(") i = regexpGroup(i + 1);
      groups++;
    } else if (c === "}" && (pattern[i + 1] === "*" || pattern[i + 1] === "+")) {
      groups += 2;
      i++;
    }
    if (groups > MAX_GROUPS_PER_SEGMENT) throw tooMany();
  }
}

/**
 * Compiles `pattern`; throws a `TypeError` whose message says what is wrong with it, or a
 * `PatternTooComplexError`.
 */
export function compileUrlPattern(pattern: string): (topic: string) => boolean {
  checkComplexity(pattern);
  const compiled = new URLPattern(pattern, BASE);
  return (topic) => {
    try {
      return compiled.test(topic, BASE);
    } catch {
      return false;
    }
  };
}
