/**
 * Where a subscriber's bytes go. Over HTTP/1.1 with chunked encoding, once the response headers
 * are on the socket, a frame is written to the socket directly as one pre-framed chunk
 * (`<hex size>\r\n<bytes>\r\n`, built once per update and shared by every subscriber), and each
 * socket written to stays corked until the event loop has handled every event that was ready
 * (`setImmediate`), so the updates published in one turn of the loop leave in one write per
 * socket: no delay when the hub is idle, and fewer, larger writes when publishes arrive faster
 * than one fan-out takes. (`res.write` would make four socket writes per chunk and allocate per
 * call.) HTTP/2 and HTTP/1.0 responses, HEAD requests and responses whose `write` was replaced by
 * a middleware go through `res.write`. The framing (`Framed`) and the compaction of the response
 * head Node keeps are ssekit/server's (`ssekit/server/http1`). Not responsible for what is written
 * or when (subscriber.ts).
 */
import { ServerResponse } from "node:http";
import { compactHead, type Framed } from "ssekit/server/http1";
import { buffered, type HubRequest, type HubResponse, writeChunk } from "./http.js";

export interface Sink {
  write(frame: Framed): void;
  /** Bytes written but not yet flushed to the socket. */
  buffered(): number;
  /** Resolves once what was written has been flushed, or the stream has closed. */
  drained(): Promise<void>;
}

/** What `drained` listens to: a socket, a response or an HTTP/2 stream. */
interface Drainable {
  readonly writableLength: number;
  readonly destroyed: boolean;
  once(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
}

function whenDrained(target: Drainable): Promise<void> {
  if (target.writableLength === 0 || target.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      target.off("drain", done);
      target.off("close", done);
      resolve();
    };
    target.once("drain", done);
    target.once("close", done);
  });
}

/** What the direct sink uses of a socket. */
interface CorkableSocket extends Drainable {
  readonly writableCorked: number;
  write(chunk: Buffer): boolean;
  cork(): void;
  uncork(): void;
}

// Sockets corked in this turn of the event loop, uncorked together by one setImmediate callback.
const corked: CorkableSocket[] = [];
function uncorkAll(): void {
  for (const socket of corked) socket.uncork();
  corked.length = 0;
}

class DirectChunkedSink implements Sink {
  readonly #socket: CorkableSocket;
  constructor(socket: CorkableSocket) {
    this.#socket = socket;
  }
  write(frame: Framed): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    if (socket.writableCorked === 0) {
      socket.cork();
      if (corked.push(socket) === 1) setImmediate(uncorkAll);
    }
    socket.write(frame.chunked);
  }
  buffered(): number {
    return this.#socket.writableLength;
  }
  drained(): Promise<void> {
    return whenDrained(this.#socket);
  }
}

class ResponseSink implements Sink {
  readonly #res: HubResponse;
  constructor(res: HubResponse) {
    this.#res = res;
  }
  write(frame: Framed): void {
    writeChunk(this.#res, frame.bytes);
  }
  buffered(): number {
    return buffered(this.#res);
  }
  drained(): Promise<void> {
    const res = this.#res;
    return whenDrained("stream" in res ? res.stream : res);
  }
}

/**
 * Starts an event stream: writes the status, `headers` and `preamble` through the response (so
 * the headers are on the socket), then returns the sink for everything after: direct chunked
 * socket writes when that gives the same bytes on the wire, else `res.write`.
 */
export function openStream(
  req: HubRequest,
  res: HubResponse,
  headers: Readonly<Record<string, string>>,
  preamble: string,
): Sink {
  res.writeHead(200, headers);
  writeChunk(res, preamble);
  if (res instanceof ServerResponse) compactHead(res);
  if (
    res instanceof ServerResponse &&
    req.method === "GET" &&
    req.httpVersionMajor === 1 &&
    res.chunkedEncoding &&
    res.write === ServerResponse.prototype.write &&
    res.socket !== null &&
    // Nothing is held in the response itself: every byte so far went to the socket, in order.
    res.writableLength === res.socket.writableLength
  ) {
    return new DirectChunkedSink(res.socket);
  }
  return new ResponseSink(res);
}
