/**
 * Every open session of the process, in one set that the heartbeat sweep and `shutdown(server)`
 * walk. Sessions add and remove themselves; this module writes nothing and knows nothing of HTTP.
 */

/** What the walkers ask of an open session (checked where `Session` adds itself, not by `implements`). */
export interface OpenSession {
  /** Writes a heartbeat comment if the session's heartbeat interval is `intervalMs`. */
  heartbeat(intervalMs: number): void;
  /** Whether the session's connection came through `server` (false for Web sessions). */
  servedBy(server: object): boolean;
  close(options: { readonly retry?: number }): void;
}

export const openSessions = new Set<OpenSession>();
