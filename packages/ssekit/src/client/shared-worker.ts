/**
 * `ssekit/client/shared-worker`: the SharedWorker script behind `shared: { worker }`. Serve this
 * module (bundled) from the page's origin; it installs itself when it runs in a
 * SharedWorkerGlobalScope and exports nothing. It keeps one connection per sharing key for all
 * attached tabs (their MessagePorts), relays open, events and errors to each of them, and closes
 * the connection when the last tab leaves. A new tab that attaches to a running connection hears
 * what comes next (and `open` if it is open): nothing is replayed to it.
 *
 * A tab that comes back (its page restored from the back/forward cache: it detached on `pagehide`
 * and attaches again over the same port on `pageshow`) gets the events it missed meanwhile, in
 * order and before anything live: each connection keeps its latest `REPLAY_LIMIT` event relays,
 * and the worker remembers, per port, how many it had relayed when the tab left. Counting relays
 * rather than looking up the tab's last id is exact also for events without an id. A tab that
 * missed more than the ring holds is told `behind` if it has a last event id: it then leaves the
 * worker for a connection of its own that resumes with that `Last-Event-ID`, so the server replays
 * the rest (as far as the server's history reaches); without an id there is nothing to resume
 * from, so it is told nothing and hears what comes next. If the connection closed meanwhile (it was the last tab), the attach
 * opens a new one with the tab's last event id, as for any first tab.
 *
 * A tab leaves by saying `detach` (on `close()` and on `pagehide`). A tab that vanishes without a
 * word (crash, killed renderer) is noticed by its Web Lock: the tab holds a lock named in its
 * attach for as long as it is attached, and the worker's request for that lock is granted only
 * once the tab has let go of it, which the browser does when the tab's page goes. No heartbeat: a
 * frozen background tab is still there and must keep its events. The MessagePort `close` event is
 * heard too where a browser fires it (Chromium 156 does not, for a closed tab). Where Web Locks are
 * missing (pages not in a secure context), only the goodbye is left, so a crashed tab's connection
 * stays open until the other tabs of its key leave or the worker ends with its last page.
 * Not responsible for the tab's side (shared.ts) or the connection (connection.ts).
 */
import { type Connection, type ConnectionOptions, startConnection } from "./connection.js";
import type { PortableOptions, TabMessage, WorkerMessage } from "./shared-port.js";
import { type Relay, relayingSink, sharingKey } from "./shared-relay.js";

interface PortLike {
  postMessage(message: WorkerMessage): void;
  onmessage: ((event: MessageEvent<TabMessage>) => void) | null;
  addEventListener(type: "close", listener: () => void): void;
}

interface WorkerScopeLike {
  addEventListener(type: "connect", listener: (event: { readonly ports: readonly PortLike[] }) => void): void;
  readonly navigator?: {
    readonly locks?: { request(name: string, callback: () => void): Promise<unknown> };
  };
}

/**
 * Event relays each connection keeps for tabs that come back from the back/forward cache. A bound
 * on memory (512 events of the stream's size per sharing key), not on time: a tab that missed
 * more resumes on a connection of its own from its last event id.
 */
const REPLAY_LIMIT = 512;

/** One connection and the ports it relays to. */
interface Shared {
  readonly connection: Connection;
  readonly ports: Set<PortLike>;
  open: boolean;
  /** Event relays so far; the latest is number `relayed`. */
  relayed: number;
  /** The latest `REPLAY_LIMIT` event relays: number n at index (n - 1) % REPLAY_LIMIT. */
  readonly recent: Relay[];
}

/** Where a port left its connection: the connection, and how many events it had been relayed. */
interface LeftAt {
  readonly shared: Shared;
  readonly relayed: number;
}

/** Wires `scope`'s `connect` events to the shared connections. */
function serveTabs(scope: WorkerScopeLike): void {
  const byKey = new Map<string, Shared>();
  /** The key each attached port listens to. */
  const attachedTo = new Map<PortLike, string>();
  /** Ports whose tab lock the worker is already waiting for (one request per port). */
  const watched = new Set<PortLike>();
  /** Ports that detached, for the replay if they attach again (weak: most never come back). */
  const leftAt = new WeakMap<PortLike, LeftAt>();

  function detach(port: PortLike): void {
    const key = attachedTo.get(port);
    if (key === undefined) return;
    attachedTo.delete(port);
    const shared = byKey.get(key);
    if (!shared) return;
    shared.ports.delete(port);
    leftAt.set(port, { shared, relayed: shared.relayed });
    if (shared.ports.size === 0) {
      byKey.delete(key);
      shared.connection.close();
    }
  }

  function open(key: string, options: ConnectionOptions): Shared {
    const relay = (message: Relay) => {
      // A connection that was let go (last tab left, or it failed) no longer speaks for the key.
      if (byKey.get(key) !== shared) return;
      if (message.k === "open") shared.open = true;
      else if (message.k === "error") shared.open = false;
      else if (message.k === "event") {
        shared.recent[shared.relayed % REPLAY_LIMIT] = message;
        shared.relayed++;
      }
      for (const port of shared.ports) port.postMessage(message);
      if (message.k === "error" && message.fatal) {
        // Over for every tab (each closes its EventSource); a later attach starts a new one.
        byKey.delete(key);
        for (const port of shared.ports) attachedTo.delete(port);
        shared.ports.clear();
      }
    };
    // The connection reports only after awaiting its first fetch, so `shared` exists by then.
    const shared: Shared = {
      connection: startConnection(options, relayingSink(options.lastEventId, relay)),
      ports: new Set(),
      open: false,
      relayed: 0,
      recent: [],
    };
    byKey.set(key, shared);
    return shared;
  }

  function attach(port: PortLike, portable: PortableOptions, lock: string | null): void {
    detach(port);
    const options: ConnectionOptions = {
      ...portable,
      headers: portable.headers.map(([name, value]): [string, string] => [name, value]),
      body: portable.body,
      fetch: (input, init) => fetch(input, init),
    };
    const key = sharingKey(options);
    const shared = byKey.get(key) ?? open(key, options);
    const left = leftAt.get(port);
    leftAt.delete(port);
    shared.ports.add(port);
    attachedTo.set(port, key);
    // The answer to every attach: it tells the tab the worker runs, and whether it is open already.
    port.postMessage({ k: "state", open: shared.open });
    // Back on the connection it left: what it missed, synchronously, so before anything live.
    if (left?.shared === shared) replay(port, shared, left.relayed, portable.lastEventId);
    const locks = scope.navigator?.locks;
    if (lock !== null && locks && !watched.has(port)) {
      watched.add(port);
      // Granted only when the tab has released it: on close(), or by the browser when the tab went.
      void locks
        .request(lock, () => {
          watched.delete(port);
          detach(port);
        })
        .catch(() => {});
    }
  }

  /** Posts the events relayed after the `from`th, or `behind` when the ring no longer has them all. */
  function replay(port: PortLike, shared: Shared, from: number, lastEventId: string): void {
    if (shared.relayed - from > REPLAY_LIMIT) {
      // Without an id, a connection of its own could not resume either: it stays and hears what comes next.
      if (lastEventId !== "") port.postMessage({ k: "behind" });
      return;
    }
    for (let n = from; n < shared.relayed; n++) {
      const relay = shared.recent[n % REPLAY_LIMIT];
      if (relay) port.postMessage(relay);
    }
  }

  scope.addEventListener("connect", (event) => {
    const [port] = event.ports;
    if (!port) return;
    port.onmessage = (message) => {
      const data = message.data;
      if (data.k === "attach") attach(port, data.options, data.lock);
      else if (data.k === "detach") detach(port);
    };
    port.addEventListener("close", () => detach(port));
  });
}

const scope = globalThis as { SharedWorkerGlobalScope?: unknown };
if (
  typeof scope.SharedWorkerGlobalScope === "function" &&
  globalThis instanceof scope.SharedWorkerGlobalScope
) {
  serveTabs(globalThis as unknown as WorkerScopeLike);
}
