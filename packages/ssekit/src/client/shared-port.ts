/**
 * The tab's side of the SharedWorker path (`shared: { worker }`): attaches this tab's participant
 * to the worker's connection over a MessagePort (`TabMessage`s out, `WorkerMessage`s in) and hands
 * over to the leader path when the worker cannot start. Not responsible for the worker itself
 * (shared-worker.ts).
 */
import type { ConnectionOptions } from "./connection.js";
import { locks, type Participant, type Relay, watchPageCache } from "./shared-relay.js";

/** Connection options that can cross into a worker: no function, headers as pairs, a string body. */
export interface PortableOptions extends Omit<ConnectionOptions, "fetch" | "headers" | "body"> {
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string | null;
}

/**
 * What a tab sends to the shared worker over its port. `lock` names a Web Lock the tab holds for
 * as long as it is attached: when the worker can take it, the tab is gone.
 */
export type TabMessage =
  | { readonly k: "attach"; readonly options: PortableOptions; readonly lock: string | null }
  | { readonly k: "detach" };

/**
 * What the worker sends to a tab: the relays, and `behind` when the tab came back after more events
 * than the worker keeps for replay (it then resumes from its last event id on its own).
 */
export type WorkerMessage = Relay | { readonly k: "behind" };

interface SharedWorkerLike {
  readonly port: MessagePort;
  addEventListener(type: "error", listener: () => void): void;
}
export type SharedWorkerConstructor = new (
  url: string,
  options: { type: "module"; name: string },
) => SharedWorkerLike;

/** The SharedWorker class, where the browser has one (not Chrome on Android, not Node). */
export function sharedWorkerConstructor(): SharedWorkerConstructor | undefined {
  const ctor = (globalThis as { SharedWorker?: unknown }).SharedWorker;
  return typeof ctor === "function" ? (ctor as SharedWorkerConstructor) : undefined;
}

/** How long a tab waits for the shared worker to answer its first attach before using the leader. */
const WORKER_START_TIMEOUT = 10000;

/** The options as plain data, or undefined when the body is not a string (a stream or form cannot be shared). */
export function portableOptions(options: ConnectionOptions): PortableOptions | undefined {
  if (options.body !== undefined && options.body !== null && typeof options.body !== "string")
    return undefined;
  const { fetch: _fetch, headers, body, ...rest } = options;
  return { ...rest, headers: [...new Headers(headers).entries()], body: body ?? null };
}

/**
 * The SharedWorker path. The tab holds a Web Lock of its own while attached (so the worker learns
 * when the tab is gone, even if it crashed) and says goodbye on `pagehide`, attaching again if
 * the page comes back from the back/forward cache. `fallback` runs when the worker cannot start;
 * `resume` when the worker no longer has every event the tab missed (it must connect on its own
 * with the participant's last event id: another tab leading could not replay).
 */
export function joinWorker(
  Worker: SharedWorkerConstructor,
  url: string,
  options: PortableOptions,
  self: Participant,
  fallback: () => void,
  resume: () => void,
): void {
  let worker: SharedWorkerLike;
  try {
    worker = new Worker(url, { type: "module", name: "ssekit" });
  } catch {
    // Cross-origin URL, or a browser that refuses module workers: the leader path.
    fallback();
    return;
  }
  const port = worker.port;
  const manager = locks();
  const lock = manager ? `ssekit-tab:${uniqueId()}` : null;
  let releaseLock: (() => void) | undefined;
  let started = false;
  let attached = false;
  /** Between `pagehide` and `pageshow`: neither attached nor holding the lock. */
  let hidden = false;
  /** This tab is done with the worker: closed, or fell back to the leader. */
  let left = false;

  const attach = () => {
    if (attached || left || self.closed) return;
    attached = true;
    port.postMessage({
      k: "attach",
      options: { ...options, lastEventId: self.lastEventId },
      lock,
    } satisfies TabMessage);
  };
  const detach = () => {
    if (!attached) return;
    attached = false;
    port.postMessage({ k: "detach" } satisfies TabMessage);
  };
  /** Attaches, with the lock held first where there are locks, so the worker can never take it first. */
  const join = () => {
    if (!manager || lock === null) {
      attach();
      return;
    }
    manager
      .request(lock, {}, () => {
        if (left || self.closed || hidden) return Promise.resolve();
        attach();
        return new Promise<void>((resolve) => {
          releaseLock = resolve;
        });
      })
      .catch(() => {});
  };
  // HTML lists held locks and lock requests among the reasons not to keep a page in the
  // back/forward cache ("lock"), so the lock goes with the goodbye and is taken again before the
  // attach on `pageshow`. The worker's watch is then granted: a no-op, as the port is detached
  // already, and the next attach watches again.
  const unwatchPage = watchPageCache(
    () => {
      hidden = true;
      detach();
      releaseLock?.();
      releaseLock = undefined;
    },
    () => {
      if (!hidden) return;
      hidden = false;
      join();
    },
  );

  const teardown = () => {
    clearTimeout(startTimer);
    detach();
    left = true;
    port.onmessage = null;
    port.close();
    releaseLock?.();
    unwatchPage();
  };
  /** The worker did not start: leave it and let the leader path take over, with the state so far. */
  const giveUp = () => {
    if (started || self.closed) return;
    teardown();
    fallback();
  };
  const startTimer = setTimeout(giveUp, WORKER_START_TIMEOUT);

  worker.addEventListener("error", giveUp);
  port.onmessage = (message: MessageEvent<WorkerMessage>) => {
    if (self.closed) return;
    if (!started) {
      started = true;
      clearTimeout(startTimer);
    }
    if (message.data.k === "behind") {
      // The worker no longer has all we missed: our own connection, with our Last-Event-ID.
      teardown();
      resume();
    } else self.receive(message.data);
  };
  self.cleanup = teardown;

  join();
}

function uniqueId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  // randomUUID needs a secure context; Web Locks do too, so this branch is the usual one.
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
