/**
 * `ssekit/client/shared-worker`: the SharedWorker script behind `shared: { worker }`. Serve this
 * module (bundled) from the page's origin; it installs itself when it runs in a
 * SharedWorkerGlobalScope and exports nothing. It keeps one connection per sharing key for all
 * attached tabs (their MessagePorts), relays open, events and errors to each of them, and closes
 * the connection when the last tab leaves. It replays nothing: a tab that attaches to a running
 * connection hears what comes next (and `open` if it is open).
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
import type { PortableOptions, TabMessage } from "./shared-port.js";
import { type Relay, relayingSink, sharingKey } from "./shared-relay.js";

interface PortLike {
  postMessage(message: Relay): void;
  onmessage: ((event: MessageEvent<TabMessage>) => void) | null;
  addEventListener(type: "close", listener: () => void): void;
}

interface WorkerScopeLike {
  addEventListener(type: "connect", listener: (event: { readonly ports: readonly PortLike[] }) => void): void;
  readonly navigator?: {
    readonly locks?: { request(name: string, callback: () => void): Promise<unknown> };
  };
}

/** One connection and the ports it relays to. */
interface Shared {
  readonly connection: Connection;
  readonly ports: Set<PortLike>;
  open: boolean;
}

/** Wires `scope`'s `connect` events to the shared connections. */
function serveTabs(scope: WorkerScopeLike): void {
  const byKey = new Map<string, Shared>();
  /** The key each attached port listens to. */
  const attachedTo = new Map<PortLike, string>();
  /** Ports whose tab lock the worker is already waiting for (one request per port). */
  const watched = new Set<PortLike>();

  function detach(port: PortLike): void {
    const key = attachedTo.get(port);
    if (key === undefined) return;
    attachedTo.delete(port);
    const shared = byKey.get(key);
    if (!shared) return;
    shared.ports.delete(port);
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
    shared.ports.add(port);
    attachedTo.set(port, key);
    // The answer to every attach: it tells the tab the worker runs, and whether it is open already.
    port.postMessage({ k: "state", open: shared.open });
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
