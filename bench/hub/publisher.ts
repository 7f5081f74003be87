/**
 * Publishes at a fixed rate for a fixed time, round-robin over topics, with a bound on requests in
 * flight (a server that cannot keep up makes the publisher fall behind, not queue without end).
 * Each update's data is its publish wall-clock time, which subscribers turn into latency, or a JSON
 * object of a given size that carries it first (`jsonPayload`).
 */
import { wallClockMs } from "./histogram.js";
import type { Target } from "./target.js";

export interface PublishResult {
  readonly sent: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly firstError?: string;
}

/**
 * Data of `bytes` characters (at least the JSON around the time): `{"sent":TIME,"text":"xx..."}`,
 * the publish wall-clock time first, where the subscriber processes read it.
 */
export function jsonPayload(bytes: number): (sent: string) => string {
  return (sent) => {
    const head = `{"sent":${sent},"text":"`;
    return `${head}${"x".repeat(Math.max(0, bytes - head.length - 2))}"}`;
  };
}

export async function publishAtRate(
  target: Target,
  topics: readonly string[],
  perSecond: number,
  durationMs: number,
  maxInFlight = 64,
  dataOf: (sent: string) => string = (sent) => sent,
): Promise<PublishResult> {
  const start = performance.now();
  let sent = 0;
  let acknowledged = 0;
  let failed = 0;
  let inFlight = 0;
  let firstError: string | undefined;
  const total = Math.round((perSecond * durationMs) / 1000);
  const pending = new Set<Promise<void>>();
  while (sent < total) {
    const elapsed = performance.now() - start;
    if (elapsed > durationMs * 1.5) break; // bounded in time even when the server falls behind
    const due = Math.min(total, Math.floor((elapsed / 1000) * perSecond) + 1);
    while (sent < due && inFlight < maxInFlight) {
      const topic = topics[sent % topics.length] ?? "";
      sent++;
      inFlight++;
      const p = target
        .publish(topic, dataOf(wallClockMs().toFixed(3)))
        .then(
          () => {
            acknowledged++;
          },
          (error: unknown) => {
            failed++;
            firstError ??= error instanceof Error ? error.message : String(error);
          },
        )
        .finally(() => {
          inFlight--;
          pending.delete(p);
        });
      pending.add(p);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(pending);
  return { sent, acknowledged, failed, firstError };
}
