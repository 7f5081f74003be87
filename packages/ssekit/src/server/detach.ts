/**
 * Letting go of what Node keeps per request once an event stream's head is written. HTTP/1.1: the
 * request and response objects, the server's per-connection state and its native parser (about
 * 5 KiB of a 10 KiB idle connection), as node:http hands over a socket on `upgrade`; HTTP/2's
 * compatibility API: its request and response objects (about 1.5 KiB a stream). The caller writes
 * to the socket or stream from then on. Not responsible for what is written or for noticing the
 * client leave (the caller listens to the socket's or stream's `close`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse, Http2Stream, ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";

/** What node:http's parser offers; undocumented, so each call is checked before the first use. */
interface NodeParser {
  _consumed?: boolean;
  incoming?: unknown;
  unconsume(): void;
  finish(): unknown;
  remove?(): void;
  close(): void;
  [slot: number]: unknown;
}

/**
 * The socket listeners node:http adds per connection (lib/_http_server.js), by function name.
 * They hold the server's per-connection state, which holds the request; the upgrade path removes
 * the same ones.
 */
const SERVER_LISTENERS: Readonly<Record<string, string>> = {
  data: "bound socketOnData",
  end: "bound socketOnEnd",
  close: "bound socketOnClose",
  drain: "bound socketOnDrain",
  error: "socketOnError",
  timeout: "socketOnTimeout",
  resume: "onSocketResume",
  pause: "onSocketPause",
};

/** The parser's callback slots, named by numeric constants on its class (cleared as Node frees it). */
const CALLBACK_SLOTS = [
  "kOnMessageBegin",
  "kOnHeaders",
  "kOnHeadersComplete",
  "kOnBody",
  "kOnMessageComplete",
  "kOnExecute",
  "kOnTimeout",
] as const;

function parserOf(socket: Socket): NodeParser | undefined {
  const parser: unknown = (socket as { parser?: unknown }).parser;
  if (typeof parser !== "object" || parser === null) return undefined;
  const p = parser as Partial<NodeParser>;
  return typeof p.unconsume === "function" && typeof p.finish === "function" && typeof p.close === "function"
    ? (parser as NodeParser)
    : undefined;
}

/**
 * Whether `req`'s connection can be let go of now: an HTTP/1.x request of node:http whose head has
 * been parsed in full with no body, the response head written straight to the socket, and the
 * server's listeners in place as this Node version names them. Anything else (HTTP/2, a request
 * with a body, a pipelined request behind it, a Node that works differently) is left as it is.
 */
export function canDetach(req: IncomingMessage, res: ServerResponse): boolean {
  const socket = req.socket as Socket | null;
  if (req.httpVersionMajor !== 1 || socket === null || !res.headersSent || !req.complete) return false;
  if (res.socket !== socket || socket.destroyed || res.writableEnded) return false;
  if ((socket as { _httpMessage?: unknown })._httpMessage !== res) return false;
  const parser = parserOf(socket);
  if (parser === undefined || parser.incoming !== req) return false;
  const pending = (res as { outputData?: unknown[] }).outputData;
  if (res.writableLength !== socket.writableLength || (pending !== undefined && pending.length > 0))
    return false;
  for (const [event, name] of Object.entries(SERVER_LISTENERS)) {
    if (event === "timeout") continue; // only added when the server has a timeout
    if (!socket.listeners(event).some((listener) => listener.name === name)) return false;
  }
  return true;
}

/**
 * Takes `req`'s socket out of node:http: removes the server's listeners, frees its parser and
 * detaches the response, so that `req`, `res` and the server's connection state become garbage
 * once the caller drops them. Call it outside the request listener's own stack (from
 * `setImmediate`, for example), after `canDetach` said yes. From then on `res` and `req` emit
 * nothing: the caller writes to the returned socket and listens to its `close`. Incoming bytes
 * are read and dropped (an event stream has no request after it); a half-close ends the socket.
 * The server's `closeAllConnections()` no longer sees the socket: whoever holds it closes it.
 */
export function detach(req: IncomingMessage, res: ServerResponse): Socket {
  const socket = req.socket as Socket;
  const parser = parserOf(socket);
  for (const [event, name] of Object.entries(SERVER_LISTENERS)) {
    for (const listener of socket.listeners(event)) {
      if (listener.name === name) socket.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  if (parser !== undefined) {
    if (parser._consumed) parser.unconsume();
    parser._consumed = false;
    parser.finish();
    parser.remove?.();
    const slots = parser.constructor as unknown as Partial<Record<(typeof CALLBACK_SLOTS)[number], number>>;
    for (const name of CALLBACK_SLOTS) {
      const slot = slots[name];
      if (typeof slot === "number") parser[slot] = null;
    }
    Object.assign(parser, { incoming: null, socket: null, outgoing: null, onIncoming: null, _headers: [] });
    parser.close();
  }
  (req as { parser?: unknown }).parser = null;
  (socket as { parser?: unknown }).parser = null;
  res.detachSocket(socket);
  socket.on("data", dropBytes);
  socket.on("end", endSocket);
  socket.on("error", ignoreError);
  // node:http paused reading while the parser consumed the socket; read (and drop) from here on,
  // so a client that closes is seen at once.
  socket.resume();
  return socket;
}

function dropBytes(): void {}
function endSocket(this: Socket): void {
  this.destroy();
}
// `close` follows every error; whoever holds the socket listens to that.
function ignoreError(): void {}

/**
 * The node:http2 compatibility API keeps its request and response objects alive from the stream
 * (under two symbols) for as long as the stream is open; these are that API's listeners on the
 * stream (lib/internal/http2/compat.js) that read them.
 */
const COMPAT_SLOTS = ["Symbol(request)", "Symbol(response)"];
const COMPAT_TIMEOUT = "onStreamTimeout";
const COMPAT_TRAILERS = "onStreamTrailersReady";

function compatSlots(stream: Http2Stream): symbol[] {
  return Object.getOwnPropertySymbols(stream).filter((slot) => COMPAT_SLOTS.includes(String(slot)));
}

/**
 * Whether an HTTP/2 compatibility-API stream can be let go of now: its head written, not ended,
 * and the request and response held by the stream under the symbols this Node version uses.
 */
export function canDetachStream(req: Http2ServerRequest, res: Http2ServerResponse): boolean {
  const stream = res.stream as Http2Stream | undefined;
  if (stream === undefined || stream.destroyed || !res.headersSent || res.writableEnded) return false;
  const slots = compatSlots(stream);
  const held = slots.map((slot) => (stream as unknown as Record<symbol, unknown>)[slot]);
  return slots.length === 2 && held.includes(req) && held.includes(res);
}

/**
 * Lets go of the compatibility API's request and response for `res.stream`: from then on they
 * emit nothing and the caller writes to the stream and listens to its `close`. Its end sends
 * empty trailers where the response had asked to send some (`waitForTrailers`).
 */
export function detachStream(res: Http2ServerResponse): ServerHttp2Stream {
  const stream = res.stream;
  const slots = stream as unknown as Record<symbol, unknown>;
  for (const slot of compatSlots(stream)) slots[slot] = undefined;
  for (const listener of stream.listeners("timeout")) {
    if (listener.name === COMPAT_TIMEOUT) stream.removeListener("timeout", listener as () => void);
  }
  for (const listener of stream.listeners("wantTrailers")) {
    if (listener.name === COMPAT_TRAILERS) {
      stream.removeListener("wantTrailers", listener as () => void);
      stream.on("wantTrailers", sendNoTrailers);
    }
  }
  return stream;
}

function sendNoTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers({});
}
