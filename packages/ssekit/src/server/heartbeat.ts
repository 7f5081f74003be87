/**
 * Heartbeats for many sessions with one timer per interval, not one per session: a sweep writes a
 * comment to every registered session. The timer exists only while some session is registered.
 * It knows nothing of HTTP; a session registers itself and is told to `heartbeat()`.
 */

export interface Beating {
  heartbeat(): void;
}

interface Group {
  readonly sessions: Set<Beating>;
  readonly timer: ReturnType<typeof setInterval>;
}

const groups = new Map<number, Group>();

export function registerHeartbeat(intervalMs: number, session: Beating): void {
  let group = groups.get(intervalMs);
  if (!group) {
    const sessions = new Set<Beating>();
    const timer = setInterval(() => {
      for (const s of sessions) s.heartbeat();
    }, intervalMs);
    // Sessions keep their server alive; the sweep alone must not keep a process running.
    timer.unref?.();
    group = { sessions, timer };
    groups.set(intervalMs, group);
  }
  group.sessions.add(session);
}

export function unregisterHeartbeat(intervalMs: number, session: Beating): void {
  const group = groups.get(intervalMs);
  if (!group) return;
  group.sessions.delete(session);
  if (group.sessions.size === 0) {
    clearInterval(group.timer);
    groups.delete(intervalMs);
  }
}

/** How many heartbeat timers run now (for tests that check nothing is left behind). */
export function activeHeartbeatTimers(): number {
  return groups.size;
}
