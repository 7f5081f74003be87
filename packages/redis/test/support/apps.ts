/**
 * App instances (test/fixtures/app.ts) as child processes, and SSE clients that follow them: the
 * `eventsource` package and ssekit's own EventSource, each through a fetch that tries the
 * instances in turn, as a load balancer with health checks would.
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { EventSource as ThirdPartyEventSource } from "eventsource";
import { EventSource as SsekitEventSource } from "ssekit/client";

const APP = new URL("../fixtures/app.ts", import.meta.url).pathname;

export class App {
  readonly child: ChildProcess;
  readonly port: number;
  private constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.port = port;
  }

  static async start(redisUrl: string, key: string): Promise<App> {
    const child = fork(APP, [redisUrl, key], {
      execArgv: ["--conditions=ssekit-source", "--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const [message] = (await Promise.race([
      once(child, "message"),
      once(child, "exit").then(([code]) => {
        throw new Error(`app exited (${code}) before listening`);
      }),
    ])) as [{ port: number }];
    return new App(child, message.port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** POST /broadcast?n=N: the id on 200, else the status and reason. */
  async broadcast(n: number): Promise<{ ok: boolean; status: number; body: string }> {
    const response = await fetch(`${this.url}/broadcast?n=${n}`, { method: "POST" });
    return { ok: response.ok, status: response.status, body: await response.text() };
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, "exit");
    this.child.kill(signal);
    await exited;
  }
}

/** A fetch that sends the request to the first of `ports()` that accepts the connection. */
export function balancedFetch(ports: () => readonly number[]) {
  return async (input: string | URL, init?: RequestInit): Promise<Response> => {
    let lastError: unknown = new Error("no instance");
    for (const port of ports()) {
      const url = new URL(String(input));
      url.port = String(port);
      try {
        return await fetch(url, init);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  };
}

interface Tick {
  readonly n: number;
  readonly id: string;
}

/** One SSE client of either kind, keeping the `tick` events it got and counting its connections. */
export class Client {
  readonly ticks: Tick[] = [];
  opens = 0;
  readonly #source: { close(): void };
  #waiters: { count: number; resolve: () => void }[] = [];
  #opened: (() => void)[] = [];

  constructor(kind: "eventsource" | "ssekit", url: string, fetchImpl: ReturnType<typeof balancedFetch>) {
    const onTick = (event: MessageEvent) => {
      this.ticks.push({ n: (JSON.parse(String(event.data)) as { n: number }).n, id: event.lastEventId });
      this.#waiters = this.#waiters.filter((w) => {
        if (this.ticks.length < w.count) return true;
        w.resolve();
        return false;
      });
    };
    const onOpen = () => {
      this.opens++;
      for (const resolve of this.#opened.splice(0)) resolve();
    };
    if (kind === "eventsource") {
      const source = new ThirdPartyEventSource(url, { fetch: fetchImpl });
      source.addEventListener("tick", onTick);
      source.addEventListener("open", onOpen);
      this.#source = source;
    } else {
      const source = new SsekitEventSource(url, { fetch: fetchImpl, retry: 100 });
      source.addEventListener("tick", onTick as EventListener);
      source.addEventListener("open", onOpen);
      this.#source = source;
    }
  }

  /** Resolves at the next `open` (or at once if it opened already and `count` opens are reached). */
  opened(count = 1): Promise<void> {
    if (this.opens >= count) return Promise.resolve();
    return new Promise<void>((resolve) => this.#opened.push(resolve)).then(() => this.opened(count));
  }

  until(count: number): Promise<void> {
    if (this.ticks.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  numbers(): number[] {
    return this.ticks.map((t) => t.n);
  }

  close(): void {
    this.#source.close();
  }
}
