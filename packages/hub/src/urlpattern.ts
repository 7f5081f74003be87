/**
 * URL Pattern selectors (Mercure 1.0 `match_urlpattern` and `match_type: "urlpattern"` grants),
 * evaluated with the WHATWG URL Pattern standard through `urlpattern-polyfill`, as Node 20 has no
 * global `URLPattern`: named groups `:id`, regular-expression groups `:id(\\d+)`, optional and
 * repeated groups `{/:part}?`, wildcards `*`. Relative patterns and relative topics (such as
 * `/books/:id` and `/books/1`) are both resolved against one fixed base, so they match each other
 * as they would under the hub's own URL. Not responsible for the other selector kinds (topics.ts).
 */
import { URLPattern } from "urlpattern-polyfill/urlpattern";

/** The base relative patterns and topics are resolved against; `.invalid` can never be a real host. */
const BASE = "https://mercure-topic.invalid/";

/** Compiles `pattern`; throws a `TypeError` whose message says what is wrong with it. */
export function compileUrlPattern(pattern: string): (topic: string) => boolean {
  const compiled = new URLPattern(pattern, BASE);
  return (topic) => {
    try {
      return compiled.test(topic, BASE);
    } catch {
      return false;
    }
  };
}
