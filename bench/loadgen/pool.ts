/**
 * A pool of load-generator processes (worker.ts), each on its own source address 127.0.0.x (a
 * fresh one per pool) so that many connections do not run out of ephemeral ports. Bounded: every
 * call has a timeout. Reusable by any bench that needs many raw SSE subscribers.
 */
import { type ChildProcess, fork } from "node:child_process";

export const BUCKET_MS = 0.25;
const WORKER = new URL("./worker.ts", import.meta.url).pathname;

interface Reply {
  readonly type: string;
  readonly opened?: number;
  readonly events?: number;
  readonly histogram?: number[];
  readonly errors?: number;
  readonly firstError?: string;
}

/** Sends `message` to a load-generator child and resolves with its first reply of type `expect`. */
export function request<R extends { readonly type: string } = Reply>(
  child: ChildProcess,
  message: object,
  expect: string,
  timeoutMs: number,
): Promise<R> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`load generator: no ${expect} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (reply: R) => {
      if (reply.type !== expect) return;
      clearTimeout(timer);
      child.off("message", onMessage);
      resolve(reply);
    };
    child.on("message", onMessage);
    child.send(message);
  });
}

// Each pool takes the next source addresses in 127.0.0.2-127.0.0.254, so that a run that opens
// tens of thousands of connections in turn does not meet the previous pool's ports in TIME_WAIT.
const FIRST_ADDRESS = 2;
const LAST_ADDRESS = 254;
let nextAddress = FIRST_ADDRESS;
function takeAddresses(count: number): number {
  if (nextAddress + count - 1 > LAST_ADDRESS) nextAddress = FIRST_ADDRESS;
  const first = nextAddress;
  nextAddress += count;
  return first;
}

export interface Snapshot {
  readonly events: number;
  readonly histogram: Uint32Array;
  readonly errors: number;
}

export class LoadPool {
  readonly #children: ChildProcess[];
  /** The last byte of the first child's source address 127.0.0.x; the others follow. */
  readonly #firstAddress: number;
  private constructor(children: ChildProcess[]) {
    this.#children = children;
    this.#firstAddress = takeAddresses(children.length);
  }

  static async start(processes: number): Promise<LoadPool> {
    return new LoadPool(await forkReady(WORKER, processes));
  }

  /** Opens `count` subscribers spread over the processes; resolves with how many got a response. */
  async connect(
    host: string,
    port: number,
    path: string,
    count: number,
  ): Promise<{ open: number; firstError?: string }> {
    const per = Math.ceil(count / this.#children.length);
    const replies = await Promise.all(
      this.#children.map((child, i) =>
        request(
          child,
          {
            type: "connect",
            host,
            port,
            path,
            count: Math.max(0, Math.min(per, count - i * per)),
            localAddress: `127.0.0.${this.#firstAddress + i}`,
          },
          "connected",
          120_000,
        ),
      ),
    );
    return {
      open: replies.reduce((n, r) => n + (r.opened ?? 0), 0),
      firstError: replies.find((r) => r.firstError)?.firstError,
    };
  }

  /** Events and latencies received since the previous snapshot. */
  async snapshot(): Promise<Snapshot> {
    const replies = await Promise.all(
      this.#children.map((c) => request(c, { type: "snapshot" }, "snapshot", 30_000)),
    );
    const histogram = new Uint32Array(replies[0]?.histogram?.length ?? 0);
    let events = 0;
    let errors = 0;
    for (const r of replies) {
      events += r.events ?? 0;
      errors += r.errors ?? 0;
      r.histogram?.forEach((v, i) => {
        histogram[i] = (histogram[i] ?? 0) + v;
      });
    }
    return { events, histogram, errors };
  }

  async close(): Promise<void> {
    await closeChildren(this.#children);
  }
}

/** Forks `processes` load-generator children running `script` and resolves once each said "ready". */
export async function forkReady(script: string, processes: number): Promise<ChildProcess[]> {
  const children = Array.from({ length: processes }, () =>
    fork(script, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "inherit", "ipc"] }),
  );
  await Promise.all(
    children.map(
      (c) => new Promise<void>((resolve) => c.on("message", (m: Reply) => m.type === "ready" && resolve())),
    ),
  );
  return children;
}

/** Asks each load-generator child to close, killing any that has not exited within 5 s. */
export async function closeChildren(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const timer = setTimeout(() => c.kill("SIGKILL"), 5_000);
          c.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          c.send({ type: "close" });
        }),
    ),
  );
}

export function quantile(histogram: Uint32Array, q: number): number {
  let total = 0;
  for (const v of histogram) total += v;
  if (total === 0) return Number.NaN;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= q * total) return (i + 1) * BUCKET_MS;
  }
  return histogram.length * BUCKET_MS;
}
