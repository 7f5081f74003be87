/**
 * Converts the text a user typed (a flag, an environment variable, a JSON config value) into typed
 * setting values: integers, durations such as `15s` or `1h`, booleans and origin lists. Each parser
 * throws a `CliUsageError` whose message names where the bad value came from. Not responsible for
 * deciding which source wins (see resolve.ts).
 */
import { CliUsageError } from "./errors.js";

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A non-negative integer within `[min, max]`. */
export function parseInteger(text: string, origin: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) {
    throw new CliUsageError("BAD_VALUE", `${origin}: expected a whole number (got ${JSON.stringify(text)})`);
  }
  const value = Number(trimmed);
  if (value < min || value > max) {
    throw new CliUsageError(
      "BAD_VALUE",
      `${origin}: expected a number from ${min} to ${max} (got ${JSON.stringify(text)})`,
    );
  }
  return value;
}

/**
 * A duration in milliseconds: a number with a unit (`500ms`, `15s`, `5m`, `1h`, `7d`), or a bare
 * number of milliseconds.
 */
export function parseDuration(text: string, origin: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  const amount = match?.[1];
  if (!match || amount === undefined) {
    throw new CliUsageError(
      "BAD_VALUE",
      `${origin}: expected a duration such as 500ms, 15s, 5m, 1h or 7d (got ${JSON.stringify(text)})`,
    );
  }
  const unit = DURATION_UNITS[match[2] ?? "ms"] ?? 1;
  return Math.round(Number(amount) * unit);
}

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off", ""]);

/** A boolean written as 1/0, true/false, yes/no or on/off (case-insensitive). */
export function parseBoolean(text: string, origin: string): boolean {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new CliUsageError(
    "BAD_VALUE",
    `${origin}: expected 1 or 0, true or false (got ${JSON.stringify(text)})`,
  );
}

/** A list written as repeated values, commas or whitespace: `a,b`, `a b`, `["a","b"]` all give a, b. */
export function parseList(parts: readonly string[]): string[] {
  return parts.flatMap((part) => part.split(/[\s,]+/)).filter((item) => item.length > 0);
}
