/**
 * A fixed-size latency histogram (0.1 ms buckets below 100 ms, 1 ms buckets up to 10 s) that a
 * subscriber process fills per event without allocating, ships to the parent as a plain array,
 * and the parent merges and reads percentiles from. Not responsible for measuring time.
 */

const FINE_LIMIT_MS = 100;
const FINE_BUCKETS = 1_000;
const COARSE_BUCKETS = 9_901;
export const HISTOGRAM_SIZE = FINE_BUCKETS + COARSE_BUCKETS;

export function bucketOf(ms: number): number {
  if (ms < 0) return 0;
  if (ms < FINE_LIMIT_MS) return Math.floor(ms * 10);
  return FINE_BUCKETS + Math.min(COARSE_BUCKETS - 1, Math.floor(ms - FINE_LIMIT_MS));
}

function bucketValue(index: number): number {
  return index < FINE_BUCKETS ? (index + 0.5) / 10 : FINE_LIMIT_MS + (index - FINE_BUCKETS) + 0.5;
}

export function createHistogram(): Uint32Array {
  return new Uint32Array(HISTOGRAM_SIZE);
}

export function mergeInto(target: Uint32Array, source: ArrayLike<number>): void {
  for (let i = 0; i < target.length && i < source.length; i++)
    target[i] = (target[i] ?? 0) + (source[i] ?? 0);
}

export function countOf(histogram: Uint32Array): number {
  let total = 0;
  for (const n of histogram) total += n;
  return total;
}

/** The value at quantile `q` (0..1), in milliseconds; NaN for an empty histogram. */
export function quantile(histogram: Uint32Array, q: number): number {
  const total = countOf(histogram);
  if (total === 0) return Number.NaN;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= rank) return bucketValue(i);
  }
  return bucketValue(histogram.length - 1);
}

/** Wall-clock time in milliseconds with sub-millisecond precision, comparable across processes. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
