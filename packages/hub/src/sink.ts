/**
 * Where a subscriber's bytes go. Over HTTP/1.1 with chunked encoding, once the response headers
 * are on the socket, a frame is written to the socket directly as one pre-framed chunk
 * (`<hex size>\r\n<bytes>\r\n`, built once per update and shared by every subscriber), and each
 * socket written to stays corked until the event loop has handled every event that was ready
 * (`setImmediate`), so the updates published in one turn of the loop leave in one write per
 * socket: no delay when the hub is idle, and fewer, larger writes when publishes arrive faster
 * than one fan-out takes. (`res.write` would make four socket writes per chunk and allocate per
 * call.) HTTP/2 and HTTP/1.0 responses, HEAD requests and responses whose `write` was replaced by
 * a middleware go through `res.write`. Not responsible for what is written or when (subscriber.ts).
 */
import { ServerResponse } from "node:http";
import { buffered, type HubRequest, type HubResponse, writeChunk } from "./http.js";

/** An update's (or heartbeat's) wire bytes, with their HTTP/1.1 chunk made on first use. */
export class Frame {
  readonly bytes: Uint8Array;
  #chunked: Buffer | undefined;
  constructor(bytes: Uint8Array | string) {
    this.bytes = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
  }
  /** The bytes as one HTTP/1.1 chunk, computed at most once. */
  get chunked(): Buffer {
    this.#chunked ??= chunk(this.bytes);
    return this.#chunked;
  }
}

function chunk(bytes: Uint8Array): Buffer {
  const size = `${bytes.byteLength.toString(16)}\r\n`;
  const out = Buffer.allocUnsafe(size.length + bytes.byteLength + 2);
  out.write(size, 0, "latin1");
  out.set(bytes, size.length);
  out.write("\r\n", size.length + bytes.byteLength, "latin1");
  return out;
}

export interface Sink {
  write(frame: Frame): void;
  /** Bytes written but not yet flushed to the socket. */
  buffered(): number;
}

/** What the direct sink uses of a socket. */
interface CorkableSocket {
  readonly writableLength: number;
  readonly writableCorked: number;
  readonly destroyed: boolean;
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
  write(frame: Frame): void {
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
}

class ResponseSink implements Sink {
  readonly #res: HubResponse;
  constructor(res: HubResponse) {
    this.#res = res;
  }
  write(frame: Frame): void {
    writeChunk(this.#res, frame.bytes);
  }
  buffered(): number {
    return buffered(this.#res);
  }
}

/** The newest response head seen; the next identical one is replaced by it. */
let sharedHead = "";
/** Whether `_header` is a plain writable field of responses, learnt from the first one. */
let headIsData: boolean | undefined;

/**
 * Node keeps an HTTP/1.1 response's status line and headers (`_header`) for the life of the
 * connection, built by one string concatenation per piece: a tree of some thirty cons strings,
 * about 1 KiB per subscriber. Reading a character makes V8 flatten it into one string of about
 * 0.3 KiB, and the tree becomes garbage; a head equal to the previous stream's (same headers and
 * ids, same `Date` second) is replaced by that same string, so such streams share one. Called once
 * the head is on the socket; Node does not read it again for this response.
 */
function compactHead(res: ServerResponse): void {
  const target = res as { _header?: unknown };
  const head = target._header;
  if (typeof head !== "string" || head.charCodeAt(0) !== 0x48) return; // the "H" of "HTTP/1.1"
  headIsData ??= Object.getOwnPropertyDescriptor(res, "_header")?.writable === true;
  if (head === sharedHead) {
    // Only where Node keeps it as a plain field (a Node that made it an accessor keeps its own).
    if (headIsData) target._header = sharedHead;
  } else sharedHead = head;
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
