/**
 * Tab sharing (`shared`): chooses who holds the one connection that every tab of an origin with
 * the same URL and init shares: a SharedWorker (shared-port.ts), else a leader tab elected with Web
 * Locks that relays over a BroadcastChannel (here), and without either (Node) a direct connection.
 * Not responsible for deduplicating and reporting (shared-relay.ts), the connection itself
 * (connection.ts) or the public object (event-source.ts).
 */
import {
  type Connection,
  type ConnectionOptions,
  type ConnectionSink,
  startConnection,
} from "./connection.js";
import { joinWorker, portableOptions, sharedWorkerConstructor } from "./shared-port.js";
import {
  locks,
  type Participant,
  participant,
  type Relay,
  relayingSink,
  sharingKey,
  watchPageCache,
} from "./shared-relay.js";

/** `shared: { worker }`: hold the shared connection in a SharedWorker. */
export interface SharedWorkerInit {
  /**
   * URL of the worker script: the `ssekit/client/shared-worker` module served as JavaScript from
   * the page's origin (the hub serves it at `/assets/ssekit-shared-worker.js`). Resolved against
   * the document's base URL. It is started as a module worker named "ssekit"; every tab must use
   * the same URL to meet in the same worker. Required.
   */
  readonly worker: string | URL;
}

/** The `shared` option: `true` for the Web Locks leader, `{ worker }` for a SharedWorker first. */
export type SharedOption = boolean | SharedWorkerInit;

/**
 * Joins (or holds) the shared connection for `options`; `sink` hears what a direct connection
 * would report. `customFetch`: init.fetch was given, which cannot travel to a worker.
 */
export function startSharedConnection(
  options: ConnectionOptions,
  sink: ConnectionSink,
  shared: SharedOption,
  customFetch: boolean,
): { close(): void } {
  const self = participant(sink, options.lastEventId);
  // The worker URL is resolved only where a worker can start: elsewhere (Node) `shared` is a no-op.
  const Worker = typeof shared === "object" && !customFetch ? sharedWorkerConstructor() : undefined;
  const portable = Worker !== undefined ? portableOptions(options) : undefined;
  if (typeof shared === "object" && Worker !== undefined && portable !== undefined) {
    joinWorker(
      Worker,
      workerUrl(shared.worker),
      portable,
      self,
      () => joinLeader(options, self),
      () => joinAlone(options, self),
    );
  } else joinLeader(options, self);
  return { close: () => self.stop() };
}

function workerUrl(worker: string | URL): string {
  const g = globalThis as { document?: { baseURI?: string }; location?: { href?: string } };
  try {
    return new URL(String(worker), g.document?.baseURI ?? g.location?.href).href;
  } catch {
    throw new TypeError(
      `init.shared.worker must be the URL of the ssekit shared worker script (got ${JSON.stringify(String(worker))})`,
    );
  }
}

/**
 * A connection of this tab's own that resumes from the participant's last event id, for a tab the
 * worker could not replay to. Through the participant, so an event it already has is dropped and
 * `open` is not reported twice.
 */
function joinAlone(options: ConnectionOptions, self: Participant): void {
  if (self.closed) return;
  const own = startConnection(
    { ...options, lastEventId: self.lastEventId },
    relayingSink(self.lastEventId, () => {}, self),
  );
  self.cleanup = () => own.close();
}

/** The leader path; without Web Locks or BroadcastChannel (Node) a direct connection. */
function joinLeader(options: ConnectionOptions, self: Participant): void {
  const manager = locks();
  if (!manager || typeof BroadcastChannel !== "function") {
    // Nothing to share with: a direct connection, reporting straight to the sink.
    const direct = startConnection({ ...options, lastEventId: self.lastEventId }, self.sink);
    self.cleanup = () => direct.close();
    return;
  }
  const key = sharingKey(options);
  const channel = new BroadcastChannel(key);
  const abort = new AbortController();
  let connection: Connection | undefined;
  let release: (() => void) | undefined;
  let open = false;

  /** This tab left the shared connection (closed, or its page was hidden). */
  let left = false;
  const post = (message: Relay) => {
    if (!self.closed && !left) channel.postMessage(message);
  };

  /**
   * Holds the connection while this tab has the lock. When the leader goes, the browser frees the
   * lock and the next tab in its queue leads, resuming from the last event id it saw.
   */
  function lead(): Promise<void> {
    if (self.closed) return Promise.resolve();
    const relay = (message: Relay) => {
      if (message.k === "open") open = true;
      else if (message.k === "error") open = false;
      post(message);
    };
    connection = startConnection(
      { ...options, lastEventId: self.lastEventId },
      relayingSink(self.lastEventId, relay, self),
    );
    return new Promise<void>((resolve) => {
      release = resolve;
    });
  }

  channel.onmessage = (message: MessageEvent<Relay>) => {
    if (self.closed) return;
    if (message.data.k === "hello") {
      if (connection) post({ k: "state", open });
    } else self.receive(message.data);
  };

  const leave = () => {
    if (left) return;
    left = true;
    connection?.close();
    connection = undefined;
    abort.abort();
    release?.();
    channel.close();
  };

  // A page that may go into the back/forward cache leaves on `pagehide`: a hidden leader would keep
  // the lock (and the other tabs would hear nothing until it came back), and a hidden follower's
  // channel would keep receiving. Back from the cache it has missed events that the leader cannot
  // replay, so it resumes on a connection of its own with its Last-Event-ID (loses nothing).
  const unwatchPage = watchPageCache(leave, () => {
    if (!left || self.closed) return;
    unwatchPage();
    joinAlone(options, self);
  });

  self.cleanup = () => {
    leave();
    unwatchPage();
  };

  manager.request(key, { signal: abort.signal }, lead).catch(() => {
    // Aborted while waiting in the queue: this participant left before it had to lead.
  });
  channel.postMessage({ k: "hello" } satisfies Relay);
}
