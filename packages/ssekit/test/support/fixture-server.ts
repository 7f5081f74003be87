/**
 * A node:http server of adversarial event streams for the client's tests (and anyone else's): each
 * case is a list of scripted responses, one per request in order (the last repeats), so a test can
 * script a first connection, a reconnect and a final 204. Chunks are written one by one with a
 * pause between them so they reach the client as separate reads. The server records every request
 * (path, Last-Event-ID, Accept, Cache-Control, Pragma; header values as Node reads them, one
 * character per byte, so a UTF-8 Last-Event-ID shows its bytes) and counts the SSE responses open right now.
 * Also serves `/page` (an empty HTML page, so browser tests share the fixtures' origin) and a
 * publishable live channel with history (`/live`) that answers both streaming and docs/polling.md.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One scripted response. */
export type Script =
  | {
      readonly kind: "stream";
      /** Status; default 200. */
      readonly status?: number;
      /** Content-Type; default `text/event-stream`. */
      readonly contentType?: string;
      /** Chunks, written one at a time. */
      readonly chunks: readonly (string | Uint8Array)[];
      /** Keep the response open after the chunks instead of ending it. */
      readonly hold?: boolean;
    }
  | {
      readonly kind: "status";
      readonly status: number;
      readonly body?: string;
      readonly contentType?: string;
    }
  | { readonly kind: "redirect"; readonly status: 301 | 302 | 307 | 308; readonly location: string }
  /** No response at all, not even headers, until the client gives up (counted in `openStreams`). */
  | { readonly kind: "pending" };

/** A request the server received. */
export interface RecordedRequest {
  readonly path: string;
  readonly method: string;
  readonly lastEventId: string | null;
  readonly accept: string | null;
  readonly cacheControl: string | null;
  readonly pragma: string | null;
  readonly body: string;
}

/** A live, publishable stream with history, served on `/live` (and `/live?poll=1`). */
interface LiveEvent {
  readonly id: string;
  readonly type: string;
  readonly data: string;
}

export interface FixtureServer {
  readonly origin: string;
  /** Registers (or replaces) a case served at `/case/NAME`. */
  define(name: string, scripts: readonly Script[]): string;
  /** Requests received for a case path, in order. */
  requests(name: string): RecordedRequest[];
  /** Every request received. */
  readonly log: RecordedRequest[];
  /** SSE responses open now (on `/case/*` and `/live`). */
  openStreams(): number;
  /** Resolves when `openStreams()` satisfies `predicate` (checked on every open and close). */
  waitForStreams(predicate: (open: number) => boolean): Promise<void>;
  /** Publishes an event on `/live` with the next numeric id. */
  publish(data: string, type?: string): LiveEvent;
  /** `/live` mode: "stream" answers SSE; "buffer" answers SSE requests with nothing at all (a proxy that buffers). */
  setLiveMode(mode: "stream" | "buffer"): void;
  close(): Promise<void>;
}

const enc = new TextEncoder();
const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

export async function startFixtureServer(): Promise<FixtureServer> {
  const cases = new Map<string, readonly Script[]>();
  const counts = new Map<string, number>();
  const log: RecordedRequest[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const live: LiveEvent[] = [];
  const liveStreams = new Set<ServerResponse>();
  const pollers = new Set<() => void>();
  let liveMode: "stream" | "buffer" = "stream";
  let open = 0;
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const track = (res: ServerResponse) => {
    open++;
    changed();
    res.on("close", () => {
      open--;
      changed();
    });
  };

  function frame(event: LiveEvent): string {
    return `id: ${event.id}\n${event.type === "message" ? "" : `event: ${event.type}\n`}data: ${event.data}\n\n`;
  }

  function after(id: string | null): LiveEvent[] {
    if (id === null || id === "") return [];
    if (id === "earliest") return [...live];
    const index = live.findIndex((event) => event.id === id);
    return index === -1 ? [...live] : live.slice(index + 1);
  }

  async function serveScript(script: Script, res: ServerResponse): Promise<void> {
    if (script.kind === "pending") {
      track(res);
      return;
    }
    if (script.kind === "status") {
      res.writeHead(script.status, { "Content-Type": script.contentType ?? "text/plain" });
      res.end(script.body ?? "");
      return;
    }
    if (script.kind === "redirect") {
      res.writeHead(script.status, { Location: script.location });
      res.end();
      return;
    }
    res.writeHead(script.status ?? 200, {
      "Content-Type": script.contentType ?? "text/event-stream",
      "Cache-Control": "no-store",
    });
    res.flushHeaders();
    track(res);
    for (const chunk of script.chunks) {
      await pause();
      if (res.destroyed) return;
      res.write(typeof chunk === "string" ? enc.encode(chunk) : chunk);
    }
    await pause();
    if (!script.hold) res.end();
  }

  function serveLive(res: ServerResponse, url: URL, lastEventId: string | null): void {
    if (url.searchParams.get("poll") === "1") {
      const id = url.searchParams.get("lastEventID") ?? lastEventId;
      const timeout = Number(url.searchParams.get("timeout") ?? "25000");
      const answer = () => {
        const events = after(id);
        // With no history yet, "earliest" (docs/polling.md) makes the next poll return everything.
        const last = events.at(-1)?.id ?? (id === null || id === "" ? (live.at(-1)?.id ?? "earliest") : id);
        res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
        res.end(JSON.stringify({ events, lastEventId: last, retry: 20 }));
      };
      if (after(id).length > 0 || id === null || id === "" || timeout === 0) {
        answer();
        return;
      }
      const wake = () => {
        pollers.delete(wake);
        clearTimeout(timer);
        answer();
      };
      const timer = setTimeout(wake, Math.min(timeout, 2000));
      pollers.add(wake);
      res.on("close", () => {
        pollers.delete(wake);
        clearTimeout(timer);
      });
      return;
    }
    if (liveMode === "buffer") return; // a buffering proxy: nothing reaches the client, not even headers
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
    res.write("retry: 20\n\n");
    for (const event of after(lastEventId)) res.write(frame(event));
    liveStreams.add(res);
    track(res);
    res.on("close", () => liveStreams.delete(res));
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fixture");
      const lastEventId = req.headers["last-event-id"];
      const record: RecordedRequest = {
        path: url.pathname,
        method: req.method ?? "GET",
        lastEventId: typeof lastEventId === "string" ? lastEventId : null,
        accept: req.headers.accept ?? null,
        cacheControl: req.headers["cache-control"] ?? null,
        pragma: req.headers.pragma ?? null,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      log.push(record);
      if (url.pathname === "/page") {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
        res.end("<!doctype html><title>fixture</title><p>fixture</p>");
        return;
      }
      if (url.pathname === "/live") {
        serveLive(res, url, record.lastEventId);
        return;
      }
      const name = url.pathname.startsWith("/case/") ? url.pathname.slice(6) : "";
      const scripts = cases.get(name);
      if (!scripts || scripts.length === 0) {
        res.writeHead(404, { "Content-Type": "text/plain" });
        res.end("no such case\n");
        return;
      }
      const n = counts.get(name) ?? 0;
      counts.set(name, n + 1);
      const script = scripts[Math.min(n, scripts.length - 1)];
      if (script) void serveScript(script, res);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    define(name, scripts) {
      cases.set(name, scripts);
      counts.set(name, 0);
      return `${origin}/case/${name}`;
    },
    requests: (name) => log.filter((r) => r.path === `/case/${name}`),
    log,
    openStreams: () => open,
    waitForStreams(predicate) {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (predicate(open)) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
      });
    },
    publish(data, type = "message") {
      const event = { id: String(live.length + 1), type, data };
      live.push(event);
      const bytes = frame(event);
      for (const res of liveStreams) res.write(bytes);
      for (const wake of [...pollers]) wake();
      return event;
    },
    setLiveMode(mode) {
      liveMode = mode;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
