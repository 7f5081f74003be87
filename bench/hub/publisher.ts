/**
 * Publishes at a fixed rate for a fixed time, round-robin over topics, with a bound on requests in
 * flight (a server that cannot keep up makes the publisher fall behind, not queue without end).
 * Each update's data is its publish wall-clock time, which subscribers turn into latency, or a JSON
 * object of a given size that carries it first (`jsonPayload`). Requests are written raw on
 * keep-alive TCP connections, one in flight on each (`Target.publishRequest`, plain HTTP only):
 * node:http's client cost the generator more per publish than the servers under test spent, on the
 * same cores, and capped the own-topics rates at about 17,000/s.
 */
import { connect, type Socket } from "node:net";
import { responseLength } from "./capacity.js";
import { wallClockMs } from "./histogram.js";
import type { Target } from "./target.js";

export interface PublishResult {
  readonly sent: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly firstError?: string;
}

/**
 * Data of `bytes` characters (at least the JSON around the time): `{"sent":TIME,"text":"xx..."}`,
 * the publish wall-clock time first, where the subscriber processes read it.
 */
export function jsonPayload(bytes: number): (sent: string) => string {
  return (sent) => {
    const head = `{"sent":${sent},"text":"`;
    return `${head}${"x".repeat(Math.max(0, bytes - head.length - 2))}"}`;
  };
}

export async function publishAtRate(
  target: Target,
  topics: readonly string[],
  perSecond: number,
  durationMs: number,
  maxInFlight = 64,
  dataOf: (sent: string) => string = (sent) => sent,
): Promise<PublishResult> {
  const start = performance.now();
  let sent = 0;
  let acknowledged = 0;
  let failed = 0;
  let inFlight = 0;
  let firstError: string | undefined;
  const total = Math.round((perSecond * durationMs) / 1000);
  const pending = new Set<Promise<void>>();
  const connections = new RawConnections(target);
  while (sent < total) {
    const elapsed = performance.now() - start;
    if (elapsed > durationMs * 1.5) break; // bounded in time even when the server falls behind
    const due = Math.min(total, Math.floor((elapsed / 1000) * perSecond) + 1);
    while (sent < due && inFlight < maxInFlight) {
      const topic = topics[sent % topics.length] ?? "";
      sent++;
      inFlight++;
      const p = connections
        .send(target.publishRequest(topic, dataOf(wallClockMs().toFixed(3))))
        .then(
          () => {
            acknowledged++;
          },
          (error: unknown) => {
            failed++;
            firstError ??= error instanceof Error ? error.message : String(error);
          },
        )
        .finally(() => {
          inFlight--;
          pending.delete(p);
        });
      pending.add(p);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  // Answers still owed get 10 s; then their connections are closed, which fails them.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(pending),
    new Promise((resolve) => {
      timer = setTimeout(resolve, 10_000);
    }),
  ]);
  clearTimeout(timer);
  connections.close();
  await Promise.all(pending);
  return { sent, acknowledged, failed, firstError };
}

/** A raw keep-alive connection with at most one request in flight. */
interface Connection {
  readonly socket: Socket;
  buffer: string;
  answer: ((error?: Error) => void) | undefined;
}

/** Keep-alive connections to a target, opened as requests need them and reused once answered. */
class RawConnections {
  readonly #target: Target;
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();

  constructor(target: Target) {
    this.#target = target;
  }

  /** Writes `request` on an idle connection (or a new one); resolves on a 2xx answer, rejects otherwise. */
  send(request: string): Promise<void> {
    const connection = this.#idle.pop() ?? this.#open();
    return new Promise<void>((resolve, reject) => {
      connection.answer = (error) => (error === undefined ? resolve() : reject(error));
      connection.socket.write(request);
    });
  }

  close(): void {
    for (const connection of this.#all) connection.socket.destroy();
  }

  #open(): Connection {
    const socket = connect(this.#target.port, this.#target.host);
    socket.setNoDelay(true);
    const connection: Connection = { socket, buffer: "", answer: undefined };
    this.#all.add(connection);
    const fail = (error: Error) => {
      this.#all.delete(connection);
      const idle = this.#idle.indexOf(connection);
      if (idle !== -1) this.#idle.splice(idle, 1);
      const answer = connection.answer;
      connection.answer = undefined;
      answer?.(error);
    };
    socket.on("data", (chunk: Buffer) => {
      connection.buffer += chunk.toString("latin1");
      const length = responseLength(connection.buffer);
      if (length === -1) return;
      const head = connection.buffer.slice(0, connection.buffer.indexOf("\r\n"));
      connection.buffer = connection.buffer.slice(length);
      const answer = connection.answer;
      connection.answer = undefined;
      this.#idle.push(connection);
      answer?.(/^HTTP\/1\.1 2/.test(head) ? undefined : new Error(head));
    });
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed by the server")));
    return connection;
  }
}
