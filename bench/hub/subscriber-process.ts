/**
 * A subscriber process for the hub benchmark: holds thousands of raw TCP connections, each one
 * an HTTP/1.1 `text/event-stream` GET, decodes chunked framing and `data:` lines with as little
 * work as possible, and records publish-to-receive latency (the data is the publish wall-clock
 * time in ms) into a histogram. Driven by its parent over IPC (subscriber-protocol.ts). Not a
 * full SSE parser: it relies on the benchmark's own one-line data.
 */
import { connect, type Socket } from "node:net";
import { bucketOf, createHistogram, wallClockMs } from "./histogram.js";
import type { FromSubscriber, ToSubscriber } from "./subscriber-protocol.js";

const sockets: Socket[] = [];
let histogram = createHistogram();
let events = 0;

function send(message: FromSubscriber): void {
  process.send?.(message);
}

/** Per-connection state: headers, then chunked body: size line, data, CRLF. */
class Connection {
  headersDone = false;
  head = "";
  chunkRemaining = -1; // -1: reading a size line
  sizeLine = "";
  skipCrlf = 0;
  line = "";

  /** Feeds body bytes (already de-chunked) into the SSE line reader. */
  body(text: string): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl === -1) {
        this.line += text.slice(start);
        return;
      }
      const line = this.line + text.slice(start, nl);
      this.line = "";
      start = nl + 1;
      if (line.startsWith("data:")) {
        const value = Number(line.slice(line.charCodeAt(5) === 32 ? 6 : 5));
        if (Number.isFinite(value)) {
          events++;
          const index = bucketOf(wallClockMs() - value);
          histogram[index] = (histogram[index] ?? 0) + 1;
        }
      }
    }
  }

  chunked(text: string): void {
    let i = 0;
    while (i < text.length) {
      if (this.skipCrlf > 0) {
        i++;
        this.skipCrlf--;
        continue;
      }
      if (this.chunkRemaining === -1) {
        const nl = text.indexOf("\n", i);
        if (nl === -1) {
          this.sizeLine += text.slice(i);
          return;
        }
        this.chunkRemaining = Number.parseInt((this.sizeLine + text.slice(i, nl)).trim(), 16);
        this.sizeLine = "";
        i = nl + 1;
        if (!Number.isFinite(this.chunkRemaining)) this.chunkRemaining = -1;
        continue;
      }
      // Chunk sizes count bytes; the benchmark's data is ASCII, so characters are bytes.
      const take = Math.min(this.chunkRemaining, text.length - i);
      this.body(text.slice(i, i + take));
      i += take;
      this.chunkRemaining -= take;
      if (this.chunkRemaining === 0) {
        this.chunkRemaining = -1;
        this.skipCrlf = 2;
      }
    }
  }
}

async function connectAll(message: Extract<ToSubscriber, { cmd: "connect" }>): Promise<void> {
  let open = 0;
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const path = message.paths[i % message.paths.length] ?? "/";
      const localAddress = message.localAddresses[i % message.localAddresses.length];
      const socket = connect({ host: message.host, port: message.port, localAddress });
      const state = new Connection();
      let chunked = false;
      let settled = false;
      const settle = (ok: boolean, reason?: string) => {
        if (settled) return;
        settled = true;
        if (ok) open++;
        else {
          failed++;
          firstError ??= reason;
        }
        resolve();
      };
      socket.setEncoding("latin1");
      socket.setNoDelay(true);
      socket.on("connect", () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: ${message.host}:${message.port}\r\nAccept: text/event-stream\r\n\r\n`,
        );
      });
      socket.on("data", (text: string) => {
        if (!state.headersDone) {
          state.head += text;
          const end = state.head.indexOf("\r\n\r\n");
          if (end === -1) return;
          state.headersDone = true;
          const head = state.head.slice(0, end);
          const rest = state.head.slice(end + 4);
          state.head = "";
          if (!/^HTTP\/1\.[01] 200/.test(head)) {
            settle(false, head.split("\r\n")[0]);
            socket.destroy();
            return;
          }
          chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
          sockets.push(socket);
          settle(true);
          if (rest) chunked ? state.chunked(rest) : state.body(rest);
          return;
        }
        chunked ? state.chunked(text) : state.body(text);
      });
      socket.on("error", (error) => settle(false, error.message));
      socket.on("close", () => settle(false, "closed"));
    });
  const worker = async () => {
    while (next < message.count) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.min(message.concurrency, message.count) }, worker));
  send({ type: "connected", open, failed, firstError });
}

process.on("message", (raw: unknown) => {
  const message = raw as ToSubscriber;
  switch (message.cmd) {
    case "connect":
      void connectAll(message);
      break;
    case "snapshot": {
      const snapshot: FromSubscriber = {
        type: "snapshot",
        open: sockets.filter((s) => !s.destroyed).length,
        events,
        histogram: Array.from(histogram),
      };
      histogram = createHistogram();
      events = 0;
      send(snapshot);
      break;
    }
    case "close":
      for (const socket of sockets) socket.destroy();
      process.disconnect?.();
      process.exit(0);
  }
});
