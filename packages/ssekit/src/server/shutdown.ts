/**
 * Graceful shutdown of a Node http/http2 server that serves sessions: stop accepting, tell every
 * open session of that server when to reconnect (`retry`), end them after their in-flight bytes,
 * and wait for the server to close (forcing connections closed after a timeout).
 */
import type { Server as HttpServer } from "node:http";
import type { Http2SecureServer, Http2Server } from "node:http2";
import { checkNonNegativeInteger } from "./errors.js";
import { openSessions } from "./open-sessions.js";

export interface ShutdownOptions {
  /** Reconnection delay (ms) sent to every session before it ends. Default: none sent. */
  readonly retry?: number;
  /** How long to wait for connections to finish before destroying them, in ms. Default: 5000. */
  readonly timeout?: number;
}

type AnyServer = HttpServer | Http2Server | Http2SecureServer;

/** Closes `server` gracefully; resolves when it has closed. */
export async function shutdown(server: AnyServer, options: ShutdownOptions = {}): Promise<void> {
  checkNonNegativeInteger("retry", options.retry);
  checkNonNegativeInteger("timeout", options.timeout);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const session of [...openSessions]) {
    if (session.servedBy(server)) session.close({ retry: options.retry });
  }
  if ("closeIdleConnections" in server) server.closeIdleConnections();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      if ("closeAllConnections" in server) server.closeAllConnections();
      resolve();
    }, options.timeout ?? 5_000);
  });
  await Promise.race([closed, forced]);
  clearTimeout(timer);
  await closed;
}
