/**
 * A real `redis-server` for tests and benchmarks: started on a free 127.0.0.1 port in a temp
 * directory, stopped (and its directory removed) by `stop`, which callers run in `finally`.
 * `kill()` SIGKILLs it mid-stream; `restart()` starts it again on the same port and directory, so
 * with `appendonly` the data written before the kill is back.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../../ssekit/test/support/free-port.js";

// A test process that ends without its finally blocks (a test runner's timeout sends SIGTERM, an
// uncaught error exits) must not leave servers behind: kill whatever is still running on the way out.
const running = new Set<ChildProcess>();
const dirs = new Set<string>();
function killRunning(): void {
  for (const child of running) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
process.once("exit", killRunning);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    killRunning();
    process.exit(128 + (signal === "SIGTERM" ? 15 : 2));
  });
}

export interface RedisServerOptions {
  /** Persist every write to an append-only file (`appendonly yes`, `appendfsync everysec`). Default: false. */
  readonly appendonly?: boolean;
}

export class RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly #options: RedisServerOptions;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string, options: RedisServerOptions) {
    this.port = port;
    this.dir = dir;
    this.#options = options;
  }

  /** Starts a server; retries on another port when the chosen one was taken meanwhile. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = mkdtempSync(join(tmpdir(), "ssekit-redis-"));
    dirs.add(dir);
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const server = new RedisServer(await freePort(), dir, options);
      try {
        await server.#spawn();
        return server;
      } catch (error) {
        lastError = error;
      }
    }
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
    throw lastError;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's process id while it runs (for benchmarks that read its memory). */
  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async #spawn(): Promise<void> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--save",
      "",
      "--appendonly",
      this.#options.appendonly ? "yes" : "no",
      "--appendfsync",
      "everysec",
      "--daemonize",
      "no",
      "--logfile",
      "",
    ];
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    running.add(child);
    child.once("exit", () => running.delete(child));
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) {
          child.stdout?.off("data", onData);
          child.off("exit", onExit);
          // Keep draining, so a chatty server never blocks on a full pipe.
          child.stdout?.resume();
          resolve();
        }
      };
      const onExit = (code: number | null) =>
        reject(new Error(`redis-server exited (${code}) before it was ready:\n${output.slice(-2000)}`));
      child.stdout?.on("data", onData);
      child.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once("exit", onExit);
      child.once("error", reject);
    });
  }

  /** SIGKILLs the server and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    child.kill("SIGCONT");
    await exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered, until `resume`. */
  pause(): void {
    this.#child?.kill("SIGSTOP");
  }

  /** Lets a paused server go on (SIGCONT). */
  resume(): void {
    this.#child?.kill("SIGCONT");
  }

  /** Starts the server again on the same port and directory. */
  async restart(): Promise<void> {
    if (this.running) throw new Error("redis-server is still running; kill it first");
    await this.#spawn();
  }

  /** Kills the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
    dirs.delete(this.dir);
  }
}
