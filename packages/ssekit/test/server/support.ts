/**
 * Test support for server tests: a node:http server on 127.0.0.1 port 0, and a raw TCP client that
 * speaks just enough HTTP/1.1 to read an event stream (chunked decoding + the ssekit parser).
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import type { ParsedEvent } from "../../src/protocol/index.js";
import { createParser } from "../../src/protocol/index.js";

export interface Listening {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Listening> {
  const server = createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    server,
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A waitable list: `until(n)` resolves once it holds n items. */
export class Collected<T> {
  readonly items: T[] = [];
  #waiters: { n: number; resolve: () => void }[] = [];
  push(item: T): void {
    this.items.push(item);
    this.#waiters = this.#waiters.filter((w) => {
      if (this.items.length >= w.n) w.resolve();
      return this.items.length < w.n;
    });
  }
  until(n: number): Promise<T[]> {
    if (this.items.length >= n) return Promise.resolve(this.items);
    return new Promise((resolve) => this.#waiters.push({ n, resolve: () => resolve(this.items) }));
  }
}

/** A raw HTTP/1.1 event-stream client over net.Socket. */
export class RawClient {
  readonly socket: Socket;
  readonly events = new Collected<ParsedEvent>();
  readonly comments = new Collected<string>();
  readonly retries = new Collected<number>();
  head = "";
  readonly ended: Promise<void>;
  #buffer = Buffer.alloc(0);
  #inHead = true;
  #parser = createParser({
    onEvent: (e) => this.events.push(e),
    onComment: (c) => this.comments.push(c),
    onRetry: (r) => this.retries.push(r),
  });

  constructor(port: number, path = "/", headers: Record<string, string> = {}) {
    this.socket = connect(port, "127.0.0.1");
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    this.socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n${lines.join("")}\r\n`,
    );
    this.socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    this.socket.on("error", () => {});
    this.ended = new Promise((resolve) => this.socket.on("close", () => resolve()));
  }

  #onData(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    if (this.#inHead) {
      const end = this.#buffer.indexOf("\r\n\r\n");
      if (end === -1) return;
      this.head = this.#buffer.subarray(0, end).toString("latin1");
      this.#buffer = this.#buffer.subarray(end + 4);
      this.#inHead = false;
    }
    // Chunked transfer decoding: size line, data, CRLF.
    for (;;) {
      const lineEnd = this.#buffer.indexOf("\r\n");
      if (lineEnd === -1) return;
      const size = Number.parseInt(this.#buffer.subarray(0, lineEnd).toString("latin1"), 16);
      if (this.#buffer.length < lineEnd + 2 + size + 2) return;
      this.#parser.feed(this.#buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
      this.#buffer = this.#buffer.subarray(lineEnd + 2 + size + 2);
    }
  }

  header(name: string): string | undefined {
    const line = this.head.split("\r\n").find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
    return line?.slice(line.indexOf(":") + 1).trim();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Resolves when `predicate` holds, checking after each of `emitter`-driven steps; a tiny poll on events. */
export function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
