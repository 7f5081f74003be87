/**
 * An update's `seq` on the Redis transport: its stream entry id (`<ms>-<n>`, Redis's clock) as one
 * number that orders as the ids do, `(ms - EPOCH) * 8192 + n`, exact below 2^53 until the year 2059.
 * Exact while a millisecond of Redis's clock holds fewer than 8,192 entries: far beyond what one
 * Redis appends (its script runs some tens of microseconds), except when Redis's clock is stepped
 * back, when Redis keeps the last millisecond and counts on; a burst of more than 8,192 appends in
 * that time would give entries the same `seq`. No I/O.
 */
import { START } from "@ssekit/redis";

const SEQ_PER_MS = 8192;
/**
 * A millisecond before 2025-01-01: entry ids are never older than the hub, and the oldest one it
 * could see (`<2025-01-01>-0`) is seq 1, not the log's start.
 */
const EPOCH_MS = Date.UTC(2025, 0, 1) - 1;

export function seqOfEntryId(entryId: string): number {
  if (entryId === START) return 0;
  const dash = entryId.indexOf("-");
  const ms = Math.max(0, Number(entryId.slice(0, dash)) - EPOCH_MS);
  const n = Number(entryId.slice(dash + 1));
  return ms * SEQ_PER_MS + Math.min(n, SEQ_PER_MS - 1);
}

export function entryIdOfSeq(seq: number): string {
  if (seq <= 0) return START;
  return `${Math.floor(seq / SEQ_PER_MS) + EPOCH_MS}-${seq % SEQ_PER_MS}`;
}

/** Milliseconds since the epoch when the entry `seq` was appended, by Redis's clock. */
export function timeOfSeq(seq: number): number {
  return Math.floor(seq / SEQ_PER_MS) + EPOCH_MS;
}
