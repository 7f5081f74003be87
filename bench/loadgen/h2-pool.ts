/**
 * A pool of HTTP/2 load-generator processes (h2-worker.ts): spreads C connections x S event-stream
 * requests over the processes, and sums what their streams received. Many streams share one
 * connection, so tens of thousands of subscribers need only a few hundred file descriptors.
 * Bounded: every call has a timeout. Not responsible for the server under test or for publishing.
 */
import type { ChildProcess } from "node:child_process";
import type { FromH2Worker, H2Counts, H2Load } from "./h2-protocol.js";
import { closeChildren, forkReady, request } from "./pool.js";

const WORKER = new URL("./h2-worker.ts", import.meta.url).pathname;
const CONNECT_TIMEOUT_MS = 300_000;

export type { H2Counts, H2Load } from "./h2-protocol.js";

export interface H2Connected {
  /** Streams answered 200 with `text/event-stream`. */
  readonly open: number;
  readonly failed: number;
  /** Connections whose every stream settled in time. */
  readonly sessions: number;
  readonly firstError?: string;
}

export class H2Pool {
  readonly #children: readonly ChildProcess[];
  private constructor(children: readonly ChildProcess[]) {
    this.#children = children;
  }

  static async start(processes: number): Promise<H2Pool> {
    return new H2Pool(await forkReady(WORKER, Math.max(1, processes)));
  }

  /** Opens `load.connections` connections, spread over the processes, with `load.streamsPerConnection` streams each. */
  async connect(load: H2Load): Promise<H2Connected> {
    const share = Math.ceil(load.connections / this.#children.length);
    const replies = await Promise.all(
      this.#children.map((child, i) =>
        request<Extract<FromH2Worker, { type: "connected" }>>(
          child,
          {
            type: "connect",
            ...load,
            connections: Math.max(0, Math.min(share, load.connections - i * share)),
          },
          "connected",
          CONNECT_TIMEOUT_MS,
        ),
      ),
    );
    return {
      open: replies.reduce((n, r) => n + r.open, 0),
      failed: replies.reduce((n, r) => n + r.failed, 0),
      sessions: replies.reduce((n, r) => n + r.sessions, 0),
      firstError: replies.find((r) => r.firstError !== undefined)?.firstError,
    };
  }

  /** What every stream received so far; `expect` is the last sequence number published. */
  async snapshot(expect: number): Promise<H2Counts> {
    const replies = await Promise.all(
      this.#children.map((child) =>
        request<Extract<FromH2Worker, { type: "snapshot" }>>(
          child,
          { type: "snapshot", expect },
          "snapshot",
          30_000,
        ),
      ),
    );
    const sum = (key: "open" | "closed" | "events" | "complete" | "outOfOrder" | "errors") =>
      replies.reduce((n, r) => n + r[key], 0);
    return {
      open: sum("open"),
      closed: sum("closed"),
      events: sum("events"),
      complete: sum("complete"),
      outOfOrder: sum("outOfOrder"),
      errors: sum("errors"),
      firstError: replies.find((r) => r.firstError !== undefined)?.firstError,
    };
  }

  /**
   * Polls until `streams` streams received 1..expect in order, or one went out of order or closed,
   * or `timeoutMs` passed; resolves with the last counts and the time it took.
   */
  async waitForComplete(
    expect: number,
    streams: number,
    timeoutMs: number,
  ): Promise<{ readonly counts: H2Counts; readonly ms: number }> {
    const began = performance.now();
    for (;;) {
      const counts = await this.snapshot(expect);
      const ms = performance.now() - began;
      if (counts.complete >= streams || counts.outOfOrder > 0 || counts.closed > 0 || ms > timeoutMs)
        return { counts, ms };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    await closeChildren(this.#children);
  }
}
