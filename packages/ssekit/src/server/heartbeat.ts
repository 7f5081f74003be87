/**
 * Heartbeats for many sessions with one timer per interval, not one per session: a sweep walks
 * the open sessions (open-sessions.ts) and each one whose interval it is writes a comment. A
 * timer exists only while some open session uses its interval. It knows nothing of HTTP.
 */
import { openSessions } from "./open-sessions.js";

interface Timer {
  /** How many open sessions use this interval. */
  users: number;
  readonly handle: ReturnType<typeof setInterval>;
}

const timers = new Map<number, Timer>();

/** A session with heartbeat interval `intervalMs` opened. */
export function startHeartbeat(intervalMs: number): void {
  const timer = timers.get(intervalMs);
  if (timer) {
    timer.users++;
    return;
  }
  const handle = setInterval(() => {
    for (const session of openSessions) session.heartbeat(intervalMs);
  }, intervalMs);
  // Sessions keep their server alive; the sweep alone must not keep a process running.
  handle.unref?.();
  timers.set(intervalMs, { users: 1, handle });
}

/** A session with heartbeat interval `intervalMs` closed. */
export function stopHeartbeat(intervalMs: number): void {
  const timer = timers.get(intervalMs);
  if (!timer) return;
  if (--timer.users > 0) return;
  clearInterval(timer.handle);
  timers.delete(intervalMs);
}

/** How many heartbeat timers run now (for tests that check nothing is left behind). */
export function activeHeartbeatTimers(): number {
  return timers.size;
}
