/**
 * Support for the SharedWorker sharing tests: an HTTP/1.1 origin made of node:http and
 * ssekit/server that serves a page, the worker script (bundled by support/browser.ts) and a live
 * channel with history, counting the SSE responses open right now. Not a test file itself.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createChannel, createSession } from "ssekit/server";

export interface SharingOrigin {
  readonly origin: string;
  /** Every request, in order: path, Last-Event-ID and Authorization. */
  readonly log: readonly {
    readonly path: string;
    readonly lastEventId: string | null;
    readonly authorization: string | null;
  }[];
  /** SSE responses open now on `/live`. */
  openStreams(): number;
  /** Resolves when `openStreams()` satisfies `predicate` (checked on every open and close). */
  waitForStreams(predicate: (open: number) => boolean): Promise<void>;
  /** Ends every open `/live` response, as a server restart would (clients reconnect). */
  dropStreams(): void;
  /** Broadcasts `data` on `/live`; returns `"ID:DATA"` as a page records it. */
  publish(data: string): string;
  close(): Promise<void>;
}

/**
 * Serves `/page` (empty HTML), `/shared-worker.js` (the worker bundle), `/live` (SSE with replay)
 * and `/no-content` (204, which ends an EventSource for good).
 */
export async function startSharingOrigin(workerScript: string): Promise<SharingOrigin> {
  const channel = createChannel({ history: 1000 });
  const log: { path: string; lastEventId: string | null; authorization: string | null }[] = [];
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  let open = 0;
  const streams = new Set<ServerResponse>();
  const changed = () => {
    for (const waiter of [...waiters]) waiter();
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://origin.invalid").pathname;
    const lastEventId = req.headers["last-event-id"];
    log.push({
      path,
      lastEventId: typeof lastEventId === "string" ? lastEventId : null,
      authorization: req.headers.authorization ?? null,
    });
    if (path === "/page") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end("<!doctype html><title>sharing</title><p>sharing</p>");
    } else if (path === "/shared-worker.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
      res.end(workerScript);
    } else if (path === "/live") {
      const session = createSession(req, res, { retry: 50, heartbeat: 0 });
      open++;
      streams.add(res);
      changed();
      res.on("close", () => {
        open--;
        streams.delete(res);
        changed();
      });
      channel.add(session);
    } else if (path === "/no-content") {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    }
  };

  const server = createServer(handle);
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    log,
    openStreams: () => open,
    waitForStreams(predicate) {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (!predicate(open)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    dropStreams() {
      for (const res of streams) res.destroy();
    },
    publish(data) {
      const id = channel.broadcast({ data });
      return `${id}:${data}`;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
