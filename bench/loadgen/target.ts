/**
 * A server under test, in its own process (bench/loadgen/target-process.ts): ssekit (in-process
 * channel, or `ssekit-redis`: a channel on a Redis bus), better-sse or a naive broadcaster, on
 * node:http or on node:http2 (h2c). The bench asks it over IPC to publish at a rate (data = the publish
 * timestamp in ms, so subscribers can measure latency) and for its resident memory.
 */
import { type ChildProcess, execFileSync, fork } from "node:child_process";

export type TargetKind = "ssekit" | "ssekit-detach" | "ssekit-redis" | "better-sse" | "naive";
const PROCESS = new URL("./target-process.ts", import.meta.url).pathname;

interface Reply {
  readonly type: string;
  readonly port?: number;
  readonly rss?: number;
  readonly published?: number;
  readonly error?: string;
  readonly count?: number;
  readonly p50?: number;
  readonly p99?: number;
}

export class Target {
  readonly #child: ChildProcess;
  readonly port: number;
  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
  }

  /**
   * Starts a server of `kind` over node:http (`http1`, the default) or node:http2 cleartext (`h2c`);
   * `ssekit-redis` needs the URL of a Redis server.
   */
  static async start(kind: TargetKind, protocol: "http1" | "h2c" = "http1", redisUrl = ""): Promise<Target> {
    if (kind === "ssekit-redis" && redisUrl === "") throw new Error("target ssekit-redis needs a Redis URL");
    const child = fork(PROCESS, [kind, protocol, redisUrl], {
      execArgv: ["--conditions=ssekit-source", "--import", "tsx", "--max-semi-space-size=16", "--expose-gc"],
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    const reply = await Target.#ask(child, undefined, "listening", 30_000);
    return new Target(child, reply.port ?? 0);
  }

  static #ask(
    child: ChildProcess,
    message: object | undefined,
    expect: string,
    timeoutMs: number,
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`target: no ${expect} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onMessage = (reply: Reply) => {
        if (reply.type !== expect) return;
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(reply);
      };
      child.on("message", onMessage);
      if (message) child.send(message);
    });
  }

  async rss(): Promise<number> {
    return (await Target.#ask(this.#child, { type: "rss" }, "rss", 10_000)).rss ?? 0;
  }

  /** Publishes `rate` events per second for `ms` milliseconds; resolves with how many were published. */
  async publish(rate: number, ms: number): Promise<number> {
    return (
      (await Target.#ask(this.#child, { type: "publish", rate, ms }, "published", ms + 30_000)).published ?? 0
    );
  }

  /**
   * For an ssekit channel: how long after each publish call of the last `publish` the event was
   * written to the channel's members in the server process (its probe member read it), p50 and
   * p99 in ms; undefined for other servers or when nothing was read.
   */
  async written(): Promise<{ readonly p50: number; readonly p99: number } | undefined> {
    const reply = await Target.#ask(this.#child, { type: "written" }, "written", 10_000);
    return reply.count && reply.p50 !== undefined && reply.p99 !== undefined
      ? { p50: reply.p50, p99: reply.p99 }
      : undefined;
  }

  /** Broadcasts the data 1, 2, ..., `count`, `intervalMs` apart; resolves once all were handed to the server. */
  async sequence(count: number, intervalMs: number): Promise<number> {
    return (
      (
        await Target.#ask(
          this.#child,
          { type: "sequence", count, ms: intervalMs },
          "sequenced",
          count * intervalMs + 60_000,
        )
      ).published ?? 0
    );
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }
}

/** This machine's hard limit on open files per process (`ulimit -Hn`); 1024 when it cannot be read. */
export function hardFileLimit(): number {
  try {
    return Number(execFileSync("bash", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim()) || 1024;
  } catch {
    return 1024;
  }
}
