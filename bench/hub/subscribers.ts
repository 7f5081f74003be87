/**
 * A pool of subscriber processes (subscriber-process.ts) for the hub benchmark: spreads N
 * connections over enough processes and source addresses (127.0.0.x) to stay under each
 * process's open-file limit and the ephemeral port range, raising `ulimit -n` in each child.
 * Not responsible for the server under test or for publishing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createHistogram, mergeInto } from "./histogram.js";
import type { FromSubscriber, ToSubscriber } from "./subscriber-protocol.js";

const SCRIPT = fileURLToPath(new URL("./subscriber-process.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Connections per subscriber process: under the usual 20,000 hard limit on open files. */
export const PER_PROCESS = 9_000;

export interface Snapshot {
  readonly open: number;
  readonly events: number;
  readonly histogram: Uint32Array;
}

/** Starts node in bash with the open-file limit raised as far as allowed. */
export function spawnWithFileLimit(args: readonly string[], options: { ipc?: boolean } = {}): ChildProcess {
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const script = `ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${quoted}`;
  return spawn("bash", ["-c", script], {
    cwd: ROOT,
    stdio: options.ipc ? ["ignore", "inherit", "inherit", "ipc"] : ["ignore", "pipe", "pipe"],
  });
}

export class SubscriberPool {
  private readonly children: ChildProcess[] = [];

  static async start(processes: number): Promise<SubscriberPool> {
    const pool = new SubscriberPool();
    for (let i = 0; i < processes; i++) {
      pool.children.push(
        spawnWithFileLimit([process.execPath, "--conditions=ssekit-source", "--import", "tsx", SCRIPT], {
          ipc: true,
        }),
      );
    }
    return pool;
  }

  private request<T extends FromSubscriber["type"]>(
    child: ChildProcess,
    message: ToSubscriber,
    type: T,
  ): Promise<Extract<FromSubscriber, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (raw: unknown) => {
        const reply = raw as FromSubscriber;
        if (reply.type !== type) return;
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve(reply as Extract<FromSubscriber, { type: T }>);
      };
      const onExit = (code: number | null) => {
        child.off("message", onMessage);
        reject(new Error(`subscriber process exited (${code}) while waiting for ${type}`));
      };
      child.on("message", onMessage);
      child.once("exit", onExit);
      child.send(message);
    });
  }

  /** Opens `count` connections spread over the processes; resolves with how many are open. */
  async connect(
    host: string,
    port: number,
    paths: readonly string[],
    count: number,
  ): Promise<{ open: number; failed: number; firstError?: string }> {
    const share = Math.ceil(count / this.children.length);
    const results = await Promise.all(
      this.children.map((child, i) => {
        const n = Math.max(0, Math.min(share, count - i * share));
        // Each process takes its own slice of paths and its own source addresses.
        const slice = paths.length > 1 ? rotate(paths, (i * share) % paths.length) : paths;
        const localAddresses = [1, 2, 3, 4].map((k) => `127.0.${i + 1}.${k}`);
        return this.request(
          child,
          { cmd: "connect", host, port, paths: slice, count: n, localAddresses, concurrency: 200 },
          "connected",
        );
      }),
    );
    return {
      open: results.reduce((sum, r) => sum + r.open, 0),
      failed: results.reduce((sum, r) => sum + r.failed, 0),
      firstError: results.find((r) => r.firstError !== undefined)?.firstError,
    };
  }

  /** Events and latencies since the previous snapshot, over every process. */
  async snapshot(): Promise<Snapshot> {
    const replies = await Promise.all(
      this.children.map((child) => this.request(child, { cmd: "snapshot" }, "snapshot")),
    );
    const histogram = createHistogram();
    for (const reply of replies) mergeInto(histogram, reply.histogram);
    return {
      open: replies.reduce((sum, r) => sum + r.open, 0),
      events: replies.reduce((sum, r) => sum + r.events, 0),
      histogram,
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, "exit");
        if (child.connected) child.send({ cmd: "close" } satisfies ToSubscriber);
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

function rotate<T>(items: readonly T[], by: number): T[] {
  return [...items.slice(by), ...items.slice(0, by)];
}
