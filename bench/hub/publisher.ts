/**
 * Publishes at a fixed rate for a fixed time, round-robin over topics, with a bound on requests in
 * flight (a server that cannot keep up makes the publisher fall behind, not queue without end).
 * Each update's data is its publish wall-clock time, which subscribers turn into latency.
 */
import { wallClockMs } from "./histogram.js";
import type { Target } from "./target.js";

export interface PublishResult {
  readonly sent: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly firstError?: string;
}

export async function publishAtRate(
  target: Target,
  topics: readonly string[],
  perSecond: number,
  durationMs: number,
  maxInFlight = 64,
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
        .publish(topic, wallClockMs().toFixed(3))
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
