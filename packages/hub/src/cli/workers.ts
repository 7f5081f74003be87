/**
 * `ssekit hub --workers N`: the primary process of a node:cluster hub. It starts N worker
 * processes that each run the whole hub and share one listening port (the kernel's connections
 * are handed out in turn), all on one shared transport (Redis), so that they act as one hub. The
 * primary serves nothing itself: it prints the URL once every worker listens, restarts a worker
 * that dies, and on SIGTERM or SIGINT tells every worker to shut down gracefully and waits for
 * them. Not responsible for the hub (each worker runs commands/hub.ts as a single process).
 */
import cluster, { type Worker } from "node:cluster";
import { CliRuntimeError } from "./errors.js";
import type { CommandIo } from "./io.js";

/** The environment variable that tells a worker its number (1..N); only worker 1 runs the demo ticker. */
export const WORKER_ENV = "SSEKIT_HUB_WORKER";
/** Messages between the primary and its workers. */
export type WorkerMessage =
  | { readonly type: "listening"; readonly url: string }
  | { readonly type: "shutdown" };
/** Worker deaths within RESTART_WINDOW_MS past which the primary gives up instead of restarting. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/** How long the primary waits for its workers to shut down gracefully before killing them. */
const STOP_GRACE_MS = 15_000;

export function isWorker(): boolean {
  return cluster.isWorker;
}

/** In a worker: tells the primary where this worker listens. */
export function reportListening(url: string): void {
  const message: WorkerMessage = { type: "listening", url };
  process.send?.(message);
}

/** In a worker: resolves when the primary asks this worker to shut down, or is gone. */
export function shutdownRequested(): Promise<void> {
  return new Promise((resolve) => {
    process.once("disconnect", () => resolve());
    const onMessage = (message: WorkerMessage) => {
      if (message?.type !== "shutdown") return;
      process.off("message", onMessage);
      resolve();
    };
    process.on("message", onMessage);
  });
}

export interface PrimaryOptions {
  readonly count: number;
  /** Environment for every worker on top of this process's (a generated dev key, so all share it). */
  readonly env: Readonly<Record<string, string>>;
  /** Called once with the URL when every worker listens (prints the banner). */
  readonly onListening: (url: string) => Promise<void>;
}

/** Runs the primary until a stop signal and every worker has exited; resolves with the exit code. */
export async function runPrimary(options: PrimaryOptions, io: CommandIo): Promise<number> {
  const { count } = options;
  let stopping = false;
  const deaths: number[] = [];
  const workers = new Map<number, Worker>();
  let listening = 0;
  let announced = false;
  let failStart: ((error: Error) => void) | undefined;
  let allListening: (url: string) => void = () => undefined;
  const started = new Promise<string>((resolve, reject) => {
    allListening = resolve;
    failStart = reject;
  });
  const stopped = new Promise<void>((resolve) => {
    cluster.on("exit", () => {
      if (stopping && Object.keys(cluster.workers ?? {}).length === 0) resolve();
    });
  });

  const fork = (index: number): void => {
    const worker = cluster.fork({ ...options.env, [WORKER_ENV]: String(index) });
    workers.set(index, worker);
    worker.on("message", (message: WorkerMessage) => {
      if (message?.type !== "listening") return;
      listening++;
      if (!announced && listening >= count) {
        announced = true;
        allListening(message.url);
      }
    });
    worker.on("exit", (code, signal) => {
      workers.delete(index);
      if (stopping) return;
      const why = signal ?? `code ${code}`;
      if (!announced) {
        failStart?.(
          new CliRuntimeError("START_FAILED", `ssekit hub: worker ${index} exited (${why}) while starting`),
        );
        return;
      }
      const now = Date.now();
      deaths.push(now);
      while (deaths.length > 0 && (deaths[0] ?? now) < now - RESTART_WINDOW_MS) deaths.shift();
      if (deaths.length > MAX_RESTARTS) {
        io.stderr.write(
          `ssekit hub: workers died ${deaths.length} times within a minute; stopping the hub\n`,
        );
        void stop(1);
        return;
      }
      io.stderr.write(`ssekit hub: worker ${index} exited (${why}); starting another\n`);
      fork(index);
    });
  };

  let exitCode = 0;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    const message: WorkerMessage = { type: "shutdown" };
    for (const worker of workers.values()) if (worker.isConnected()) worker.send(message);
    if (workers.size === 0) return;
    // A worker gets the hub's own grace for admitted publishes and open streams, then is killed.
    const timer = setTimeout(() => {
      for (const worker of workers.values()) worker.process.kill("SIGKILL");
    }, STOP_GRACE_MS);
    await stopped;
    clearTimeout(timer);
  };

  for (let index = 1; index <= count; index++) fork(index);
  const signals = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      process.once("SIGTERM", () => process.exit(1));
      process.once("SIGINT", () => process.exit(1));
      resolve(signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  try {
    const url = await Promise.race([started, signals.then(() => undefined)]);
    if (url !== undefined) await options.onListening(url);
  } catch (error) {
    await stop(1);
    throw error;
  }
  const signal = await Promise.race([signals, stopped.then(() => undefined)]);
  if (signal !== undefined) {
    io.stderr.write(
      `ssekit hub: ${signal}, closing ${workers.size} workers (a second signal exits at once)\n`,
    );
    await stop(0);
  }
  io.stderr.write("ssekit hub: closed\n");
  return exitCode;
}
