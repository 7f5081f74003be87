/**
 * The reconnection delay: the server's `retry` (or `init.retry`) after a stream that opened, doubled
 * for each consecutive failed attempt up to a cap, with a little random jitter so that many clients
 * dropped at once do not come back at once. Pure; the timer lives in the caller.
 */

/** Jitter added on top of the delay, as a fraction of it. */
const JITTER = 0.1;

/**
 * The delay before reconnect attempt number `failures` (0 = first attempt after a stream that was
 * open). `random` is injectable for tests.
 */
export function reconnectDelay(
  base: number,
  failures: number,
  cap: number,
  random: () => number = Math.random,
): number {
  const exponential = failures <= 0 ? base : base * 2 ** Math.min(failures, 30);
  const capped = Math.min(Math.max(base, cap), exponential);
  return Math.round(capped + capped * JITTER * random());
}
