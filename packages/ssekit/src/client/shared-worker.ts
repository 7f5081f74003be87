/**
 * `ssekit/client/shared-worker`: the SharedWorker script behind `shared: { worker }`. It installs
 * itself when it runs in a SharedWorkerGlobalScope and exports nothing. It keeps one connection
 * per sharing key for the tabs attached to it, relays to each, replays to a tab back from the
 * back/forward cache what it missed, and closes the connection when the last tab leaves. Not
 * responsible for the tab's side (shared-port.ts) or the connection (connection.ts).
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

/**
 * Where a port left its connection: the connection, and how many events it had been relayed.
 * Counting relays rather than looking up the tab's last id is exact also for events without an id.
 */
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
    // A tab that vanishes without a word (crash, killed renderer) is noticed by its lock, not by a
    // heartbeat: a frozen background tab is still there and must keep its events. Without Web Locks
    // (no secure context) only the goodbye is left.
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
    // Where a browser fires it (Chromium 156 does not, for a closed tab).
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
