/**
 * A subscriber process for the hub benchmark: holds thousands of raw TCP connections, each one
 * an HTTP/1.1 `text/event-stream` GET, decodes chunked framing and `data:` lines with as little
 * work as possible, and records publish-to-receive latency (the data is the publish wall-clock
 * time in ms, alone or as the first number of a one-line JSON object) into a histogram. Driven by
 * its parent over IPC (subscriber-protocol.ts). Not a full SSE parser: it relies on the benchmark's
 * own one-line data.
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

const LF = 10;
const CR = 13;
const DATA_PREFIX = [100, 97, 116, 97, 58]; // "data:"

/**
 * Per-connection state, byte by byte with no allocation: HTTP chunked framing (size line, data,
 * CRLF), then SSE lines, of which only `data:` lines holding a number are read.
 */
class Connection {
  chunked = false;
  /** Chunked framing: -1 while reading a size line, else bytes left in the chunk. */
  chunkLeft = -1;
  chunkSize = 0;
  skip = 0;
  /**
   * SSE line: index into "data:" while matching, 5 in the value until its first number has been
   * read, 6 when the line is ignored, 7 once its number has been read.
   */
  match = 0;
  whole = 0;
  fraction = 0;
  scale = 1;
  digits = 0;

  feed(buf: Buffer, from: number): void {
    if (!this.chunked) {
      for (let i = from; i < buf.length; i++) this.sse(buf[i] ?? 0);
      return;
    }
    for (let i = from; i < buf.length; i++) {
      const byte = buf[i] ?? 0;
      if (this.skip > 0) {
        this.skip--;
      } else if (this.chunkLeft === -1) {
        if (byte === LF) {
          this.chunkLeft = this.chunkSize;
          this.chunkSize = 0;
          if (this.chunkLeft === 0) {
            this.chunkLeft = -1;
            this.skip = 2;
          }
        } else {
          const hex = byte <= 57 ? byte - 48 : (byte | 32) - 87;
          if (hex >= 0 && hex < 16) this.chunkSize = this.chunkSize * 16 + hex;
        }
      } else {
        this.sse(byte);
        if (--this.chunkLeft === 0) {
          this.chunkLeft = -1;
          this.skip = 2;
        }
      }
    }
  }

  private sse(byte: number): void {
    if (byte === LF || byte === CR) {
      if ((this.match === 5 || this.match === 7) && this.digits > 0) {
        events++;
        const index = bucketOf(wallClockMs() - (this.whole + this.fraction));
        histogram[index] = (histogram[index] ?? 0) + 1;
      }
      this.match = 0;
      this.whole = 0;
      this.fraction = 0;
      this.scale = 1;
      this.digits = 0;
      return;
    }
    if (this.match < 5) {
      this.match = byte === DATA_PREFIX[this.match] ? this.match + 1 : 6;
    } else if (this.match === 5) {
      if (byte >= 48 && byte <= 57) {
        this.digits++;
        if (this.scale === 1) this.whole = this.whole * 10 + (byte - 48);
        else {
          this.fraction += (byte - 48) * this.scale;
          this.scale /= 10;
        }
      } else if (byte === 46 && this.scale === 1 && this.digits > 0) {
        this.scale = 0.1;
      } else if (this.digits > 0) {
        // The number is read (the rest of a JSON object follows); the line ends later.
        this.match = 7;
      }
      // Before the first digit: a space, or the JSON up to the number (`{"sent":`), is skipped.
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
      let head = "";
      let headersDone = false;
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
      socket.setNoDelay(true);
      socket.on("connect", () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: ${message.host}:${message.port}\r\nAccept: text/event-stream\r\n\r\n`,
        );
      });
      socket.on("data", (buf: Buffer) => {
        if (headersDone) {
          state.feed(buf, 0);
          return;
        }
        const before = head.length;
        head += buf.toString("latin1");
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) return;
        headersDone = true;
        const status = head.slice(0, end);
        head = "";
        if (!/^HTTP\/1\.[01] 200/.test(status)) {
          settle(false, status.split("\r\n")[0]);
          socket.destroy();
          return;
        }
        state.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(status);
        sockets.push(socket);
        settle(true);
        state.feed(buf, end + 4 - before);
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
