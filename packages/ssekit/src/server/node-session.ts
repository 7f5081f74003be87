/**
 * Sessions over Node's `(req, res)`: node:http (HTTP/1.1) and the node:http2 compatibility API,
 * which Express 5 and Fastify 5 hand through; and over node:http2's core API (a stream and its
 * headers). Sets the event-stream headers, flushes the first bytes at once, and adapts the response
 * to a `SessionSink`. It holds no timers of its own.
 */
import { type IncomingMessage, ServerResponse } from "node:http";
import type {
  Http2ServerRequest,
  Http2ServerResponse,
  IncomingHttpHeaders,
  OutgoingHttpHeaders,
  ServerHttp2Stream,
} from "node:http2";
import type { Socket } from "node:net";
import { chunkFrame, type Framed } from "./chunked.js";
import { canDetach, canDetachStream, detach, detachStream } from "./detach.js";
import { SseServerError } from "./errors.js";
import { readLastEventId } from "./request.js";
import { compactHead } from "./response-head.js";
import { Session, type SessionSink } from "./session.js";
import { openingBytes, streamHeaders } from "./stream-head.js";
import type { EventMap, SessionOptions } from "./types.js";

export type NodeRequest = IncomingMessage | Http2ServerRequest;
export type NodeResponse = ServerResponse | Http2ServerResponse;

/** The part of a writable that a sink needs: what both an http/1 socket response and an http2 stream have. */
interface Writable {
  readonly writableLength: number;
  once(event: "drain", listener: () => void): unknown;
}

const sessionOf = Symbol("ssekit.session");
type Tagged = { [sessionOf]?: Session };

// One listener function for every response (or detached socket), finding its session through a
// symbol: no closure per session.
function onResponseClose(this: Tagged): void {
  const session = this[sessionOf];
  this[sessionOf] = undefined;
  session?.clientClosed();
}

/** The calls a sink makes on a response; both response classes have them. */
interface ResponseLike {
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  destroy(): unknown;
}

/** What both Node sinks share: the response to end. */
abstract class ResponseSink implements SessionSink {
  protected res: ResponseLike;
  constructor(res: ResponseLike) {
    this.res = res;
  }
  abstract write(bytes: Uint8Array, framed?: Framed): void;
  abstract buffered(): number;
  abstract waitDrain(onDrain: () => void): void;
  abstract servedBy(server: object): boolean;
  end(): void {
    this.res.end();
  }
  destroy(): void {
    this.res.destroy();
  }
}

/** Writes through the response: HTTP/2, and HTTP/1.1 responses the direct sink cannot take. */
class NodeSink extends ResponseSink {
  /** The server, for `shutdown(server)`; undefined when it could not be told (any shutdown ends it). */
  readonly #server: object | undefined;
  readonly #writable: Writable;
  readonly #drains: Writable;
  constructor(res: ResponseLike, server: object | undefined, writable: Writable, drains: Writable) {
    super(res);
    this.#server = server;
    this.#writable = writable;
    this.#drains = drains;
  }
  servedBy(server: object): boolean {
    return this.#server === undefined || this.#server === server;
  }
  write(bytes: Uint8Array): void {
    this.res.write(bytes);
  }
  /** The HTTP/2 stream was let go of by its compatibility objects (`detach`): write to it. */
  detached(stream: ServerHttp2Stream): void {
    this.res = stream;
  }
  buffered(): number {
    return this.#writable.writableLength;
  }
  waitDrain(onDrain: () => void): void {
    this.#drains.once("drain", onDrain);
  }
}

/** The calls the direct HTTP/1.1 sink makes on the socket. */
interface SocketLike extends Writable {
  readonly destroyed: boolean;
  write(chunk: Uint8Array): boolean;
  readonly writableCorked: number;
  cork(): void;
  uncork(): void;
}

// Sockets written to stay corked until the event loop has handled every event that was ready
// (setImmediate), so the events published in one turn of the loop (a burst of publish requests, a
// batch from a shared log) leave as one writev per socket: no delay when idle, fewer and larger
// writes under load. One callback for all the sockets, not one per socket.
const corked: SocketLike[] = [];
function uncorkAll(): void {
  for (const socket of corked) socket.uncork();
  corked.length = 0;
}

/**
 * Writes now what sessions have gathered since the event loop last came round, instead of once it
 * has handled every ready event. For code that writes a whole batch from a `setImmediate` callback
 * or a timer (events gathered elsewhere): its writes would otherwise wait for the next turn of the
 * loop, after the sockets ready by then have been read.
 */
export function flushWrites(): void {
  uncorkAll();
}

/**
 * HTTP/1.1 with chunked encoding and an unpatched `res.write`: frames each event itself and writes
 * it to the socket in one call (Node's `res.write` makes four socket writes per chunk). Used only
 * once the headers are on the socket, so the byte order on the wire is unchanged; `res.end()`
 * still writes the terminating chunk.
 */
class DirectChunkedSink extends ResponseSink {
  readonly #socket: SocketLike;
  constructor(res: ResponseLike, socket: SocketLike) {
    super(res);
    this.#socket = socket;
  }
  /** The socket was taken out of node:http (`detach`): end and abort it, not the response. */
  detached(socket: Socket): void {
    this.res = new DetachedResponse(socket);
  }
  servedBy(server: object): boolean {
    // Node's server-side sockets name their server: no field for it here.
    const own = serverOf(this.#socket);
    return own === undefined || own === server;
  }
  buffered(): number {
    return this.#socket.writableLength;
  }
  waitDrain(onDrain: () => void): void {
    this.#socket.once("drain", onDrain);
  }
  write(bytes: Uint8Array, framed?: Framed): void {
    const socket = this.#socket;
    // Gone, its close not yet reported: a write would only make an error.
    if (socket.destroyed) return;
    if (socket.writableCorked === 0) {
      socket.cork();
      if (corked.push(socket) === 1) setImmediate(uncorkAll);
    }
    socket.write(framed ? framed.chunked : chunkFrame(bytes));
  }
}

/** The terminating chunk of a chunked response, which `res.end()` would have written. */
const LAST_CHUNK = "0\r\n\r\n";

/** A detached socket, ended and aborted as its response would have been. */
class DetachedResponse implements ResponseLike {
  readonly #socket: Socket;
  constructor(socket: Socket) {
    this.#socket = socket;
  }
  write(chunk: Uint8Array): boolean {
    return this.#socket.write(chunk);
  }
  end(): void {
    this.#socket.end(LAST_CHUNK);
  }
  destroy(): void {
    this.#socket.destroy();
  }
}

/** Listeners that node:http, node:http2's compatibility API and ssekit put on `req` and `res`, by name. */
const OWN_LISTENERS: Readonly<Record<string, string>> = {
  finish: "bound resOnFinish",
  pause: "onRequestPause",
  resume: "onRequestResume",
  close: onResponseClose.name,
};

/** Whether nothing but Node and this session listens to `req` and `res` (else the app does). */
function onlyOurListeners(...emitters: readonly (NodeRequest | NodeResponse)[]): boolean {
  for (const emitter of emitters) {
    for (const name of emitter.eventNames()) {
      const listeners = emitter.listeners(name);
      if (listeners.length !== 1 || typeof name !== "string" || listeners[0]?.name !== OWN_LISTENERS[name])
        return false;
    }
  }
  return true;
}

/**
 * `detach: true`, one turn after the session opened: when nothing but this session listens to `req`
 * and `res`, lets go of them (HTTP/1.1: and of node:http's state for the connection), and moves
 * the close listener to the socket or stream the sink writes to from then on.
 */
function detachSession(req: NodeRequest, res: NodeResponse, sink: DirectChunkedSink | NodeSink): void {
  const tagged = res as Tagged;
  const session = tagged[sessionOf];
  if (session === undefined || !onlyOurListeners(req, res)) return;
  let target: Socket | ServerHttp2Stream;
  if (sink instanceof DirectChunkedSink) {
    if (!canDetach(req as IncomingMessage, res as ServerResponse)) return;
    target = detach(req as IncomingMessage, res as ServerResponse);
    sink.detached(target);
  } else {
    if (!("stream" in res) || !canDetachStream(req as Http2ServerRequest, res)) return;
    target = detachStream(res);
    sink.detached(target);
  }
  res.removeListener("close", onResponseClose);
  tagged[sessionOf] = undefined;
  (target as Tagged)[sessionOf] = session;
  target.on("close", onResponseClose);
}

/** The id a Node request resumes after: its `Last-Event-ID` header, else its URL's query. */
function lastEventIdOf(headers: IncomingHttpHeaders, url: string | undefined): string | undefined {
  const raw = headers["last-event-id"];
  return readLastEventId(Array.isArray(raw) ? raw[0] : raw, url)?.id;
}

function serverOf(socket: unknown): object | undefined {
  if (typeof socket === "object" && socket !== null && "server" in socket) {
    const server: unknown = socket.server;
    if (typeof server === "object" && server !== null) return server;
  }
  return undefined;
}

/**
 * Starts a server-sent events session on a Node request: writes the status and headers
 * (`Content-Type: text/event-stream; charset=utf-8`, `Cache-Control: no-cache, no-transform`,
 * `X-Accel-Buffering: no`, and `Connection: keep-alive` on HTTP/1.1) and the first bytes at once.
 * A `HEAD` request gets the headers and an ended response: the session comes back closed.
 */
export function createSession<M extends EventMap = EventMap>(
  req: NodeRequest,
  res: NodeResponse,
  options: SessionOptions = {},
): Session<M> {
  if (res.headersSent) {
    throw new SseServerError(
      "HEADERS_SENT",
      "createSession needs a response whose headers were not sent yet (in Fastify, call reply.hijack() first)",
    );
  }
  const http2 = req.httpVersionMajor >= 2;
  const headers = streamHeaders(options);
  // Connection-specific headers are forbidden in HTTP/2 (RFC 9113, 8.2.2); Node throws on them.
  if (!http2) headers.connection = "keep-alive";
  res.writeHead(200, headers);
  // The send buffer: on HTTP/1.1 the response's own (headers not yet out) plus its socket's; on
  // HTTP/2 the stream's. Drain is watched where it is emitted: the socket, or the stream.
  const stream: Writable | undefined = "stream" in res ? res.stream : undefined;
  const socket: Writable | undefined = "stream" in res ? undefined : (res.socket ?? undefined);
  const writable: Writable = stream ?? res;
  const drains: Writable = stream ?? socket ?? res;
  const lastEventId = lastEventIdOf(req.headers, req.url);
  const head = req.method === "HEAD";
  // First bytes at once: headers alone may sit in a buffer, and clients report "open" on them.
  if (!head) (res as ResponseLike).write(openingBytes(options.retry));
  const direct =
    !http2 &&
    !head &&
    res instanceof ServerResponse &&
    compactHead(res) &&
    res.chunkedEncoding &&
    res.write === ServerResponse.prototype.write &&
    res.socket !== null &&
    res.writableLength === res.socket.writableLength;
  const sink =
    direct && res.socket
      ? new DirectChunkedSink(res, res.socket)
      : new NodeSink(res, serverOf(req.socket), writable, drains);
  const session = Session.open<M>(sink, lastEventId, options);
  if (head) {
    // Headers only: the stream ends at once.
    session.close();
    return session;
  }
  // Disable Nagle: small events should leave now, not wait for an ACK.
  if (!http2) res.socket?.setNoDelay(true);
  const tagged = res as Tagged;
  tagged[sessionOf] = session as Session;
  res.on("close", onResponseClose);
  if (res.destroyed || req.destroyed) session.clientClosed();
  // Outside node:http's parser callback, and after the app's own listeners of this turn.
  else if (options.detach && (sink instanceof DirectChunkedSink || http2))
    setImmediate(detachSession, req, res, sink);
  return session;
}

/**
 * Starts a server-sent events session on a stream of node:http2's core API (`server.on("stream")`),
 * with the request's `headers`: answers 200 with the event-stream headers and writes the first bytes
 * at once, as `createSession` does. No compatibility request and response are made (some 2 KiB per
 * stream). A `HEAD` request gets the headers and an ended stream: the session comes back closed.
 */
export function createStreamSession<M extends EventMap = EventMap>(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  options: SessionOptions = {},
): Session<M> {
  if (stream.headersSent) {
    throw new SseServerError("HEADERS_SENT", "createStreamSession needs a stream that has not responded yet");
  }
  const head: OutgoingHttpHeaders = streamHeaders(options);
  head[":status"] = 200;
  stream.respond(head);
  const lastEventId = lastEventIdOf(headers, headers[":path"]);
  const isHead = headers[":method"] === "HEAD";
  if (!isHead) stream.write(openingBytes(options.retry));
  const sink = new NodeSink(stream, serverOf(stream.session?.socket), stream, stream);
  const session = Session.open<M>(sink, lastEventId, options);
  if (isHead) {
    session.close();
    return session;
  }
  (stream as Tagged)[sessionOf] = session as Session;
  stream.on("close", onResponseClose);
  if (stream.destroyed) session.clientClosed();
  return session;
}
