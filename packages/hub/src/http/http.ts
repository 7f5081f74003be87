/**
 * The HTTP edge shared by the routes: request and response types (node:http and http2), one-line
 * text errors (also for requests Node's parser refuses), the checked request URL, bounded body
 * reading, discovery and CORS headers. Not responsible for routing, Mercure semantics or event
 * streams (ssekit/server).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse, ServerHttp2Stream } from "node:http2";
import type { Duplex } from "node:stream";
import { FormEncodingError, parseForm } from "./form.js";

export type HubRequest = IncomingMessage | Http2ServerRequest;
export type HubResponse = ServerResponse | Http2ServerResponse;

/**
 * What the routes read of a request: its method, target and headers. A node:http or compatibility
 * request is one; so is `{ method: headers[":method"], url: headers[":path"], headers }` for an
 * HTTP/2 stream served without the compatibility API.
 */
export interface RequestHead {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

import { MERCURE_PATH } from "../domain/update.js";

export { MERCURE_PATH };

/** A bad request, mapped to `status` and a one-line reason. */
export class HttpError extends Error {
  readonly code = "HTTP_ERROR";
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** Answers with a one-line text/plain body. */
export function sendText(
  res: HubResponse,
  status: number,
  text: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const http2 = "stream" in res;
  const { head, body, reset } = textAnswer(status, text, headers, http2);
  res.writeHead(status, head);
  res.end(body);
  if (reset && http2) res.stream.close();
}

/** `sendText` on an HTTP/2 stream served without the compatibility API. */
export function sendTextOnStream(
  stream: ServerHttp2Stream,
  status: number,
  text: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (stream.destroyed) return;
  if (stream.headersSent) {
    stream.end();
    return;
  }
  const { head, body, reset } = textAnswer(status, text, headers, true);
  stream.respond({ ...head, ":status": status });
  stream.end(body);
  if (reset) stream.close();
}

function textAnswer(
  status: number,
  text: string,
  headers: Readonly<Record<string, string>>,
  http2: boolean,
): { head: Record<string, string | number>; body: string; reset: boolean } {
  const body = `${text.replace(/[\r\n]+/g, " ")}\n`;
  // After a 408 or 413 the rest of the body may still come, unread: an HTTP/1.1 connection cannot
  // be reused, and an HTTP/2 stream is reset once the answer is sent (RFC 9113 section 8.1; it
  // forbids the header).
  const unreadBody = status === 408 || status === 413;
  const head: Record<string, string | number> = {
    ...headers,
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  };
  if (unreadBody && !http2) head.connection = "close";
  return { head, body, reset: unreadBody };
}

export function sendJson(res: HubResponse, status: number, value: unknown, type = "application/json"): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": `${type}; charset=utf-8`,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(body);
}

/**
 * The request's URL, its query checked to be percent-encoded UTF-8. A request target that is not a
 * URL, or a malformed query, is 400 (the query would otherwise be read silently altered).
 */
export function requestUrl(req: RequestHead): URL {
  const target = req.url ?? "/";
  let url: URL;
  try {
    // An origin-form target is a path: "//a/b" is the path //a/b, not the host a. Others are
    // absolute URLs, or "*" (OPTIONS * asks about the server), read as a path.
    url = target.startsWith("/")
      ? new URL(`http://hub.invalid${target}`)
      : new URL(target, "http://hub.invalid/");
  } catch {
    throw new HttpError(400, `the request target ${JSON.stringify(target.slice(0, 200))} is not a valid URL`);
  }
  try {
    parseForm(url.search.slice(1), "query parameter");
  } catch (error) {
    if (error instanceof FormEncodingError) throw new HttpError(400, error.message);
    throw error;
  }
  return url;
}

/**
 * Reads the whole body, failing with 415 when it is compressed, with 413 past `limit` bytes, and
 * with 408 when it has not fully arrived `timeoutMs` after the request: a body that never
 * finishes is never parsed, so nothing of it is stored.
 */
export function readBody(req: HubRequest, limit: number, timeoutMs: number): Promise<Buffer> {
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
    return Promise.reject(
      new HttpError(
        415,
        `compressed request bodies are not accepted (got Content-Encoding: ${encoding}); send it uncompressed`,
      ),
    );
  }
  const length = Number(req.headers["content-length"]);
  if (Number.isFinite(length) && length > limit) {
    return Promise.reject(
      new HttpError(413, `the body is ${length} bytes; this hub accepts at most ${limit}`),
    );
  }
  if (isBuffered(req, length)) {
    // All of it, as one Buffer (null when the body is empty); resumed so that `end` follows.
    const body = (req.read() as Buffer | null) ?? EMPTY_BODY;
    req.resume();
    return Promise.resolve(body);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      req.off("data", onData);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done();
        req.resume();
        reject(new HttpError(413, `the body is larger than ${limit} bytes, the most this hub accepts`));
        return;
      }
      chunks.push(chunk);
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new HttpError(
          408,
          `the request body did not arrive within ${timeoutMs} ms (${size} bytes received); nothing was published`,
        ),
      );
    }, timeoutMs);
    req.on("data", onData);
    req.on("end", () => {
      done();
      resolve(Buffer.concat(chunks));
    });
    req.on("error", (error) => {
      done();
      reject(error);
    });
  });
}

const EMPTY_BODY = Buffer.alloc(0);

/**
 * True when the whole body of an HTTP/1.1 request, `length` bytes by its Content-Length, is in its
 * buffer, unread: node's parser reads a small body with the request's head, so that a route that
 * has awaited once before reading finds it there, to be taken at once, without listeners or a
 * timer. (The request is marked complete only later, when the parser next runs.)
 */
function isBuffered(req: HubRequest, length: number): req is IncomingMessage {
  return !("stream" in req) && req.readableFlowing === null && req.readableLength === length;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad Request",
  408: "Request Timeout",
  413: "Content Too Large",
  431: "Request Header Fields Too Large",
};

/**
 * Answers a request that node's HTTP parser refused (malformed request line, header or chunked
 * encoding, headers too large, headers too slow) with its status and a one-line text/plain reason,
 * where node would answer with no body. For the server's `clientError` event.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // As node does: answer unless a response on this connection has begun (it would be corrupted).
  // `_httpMessage` is node's in-flight response of the socket; null between keep-alive requests.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const status =
    error.code === "HPE_HEADER_OVERFLOW"
      ? 431
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? 408
        : error.code === "HPE_CHUNK_EXTENSIONS_OVERFLOW"
          ? 413
          : 400;
  const reason =
    status === 431
      ? "the request line and headers are larger than this hub accepts; send fewer or shorter selectors"
      : status === 408
        ? "the request did not arrive in time"
        : `malformed HTTP request (${error.code ?? "parse error"}: ${error.message.replace(/[\r\n]+/g, " ")})`;
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Bad Request"}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

const EXPOSED = "Link, Last-Event-ID, Mercure-Last-Event-ID, WWW-Authenticate";

const DISCOVERY = `<${MERCURE_PATH}>; rel="mercure"`;
/** The common headers of a request without Origin (not a browser's cross-origin one): one object for all. */
const WITHOUT_ORIGIN: Readonly<Record<string, string>> = Object.freeze({ link: DISCOVERY });

/** The headers every response carries: discovery and, for allowed origins, CORS. */
export function commonHeaders(req: RequestHead, cors: readonly string[]): Readonly<Record<string, string>> {
  const origin = req.headers.origin;
  if (typeof origin !== "string") return WITHOUT_ORIGIN;
  const headers: Record<string, string> = { link: DISCOVERY };
  if (cors.includes(origin)) {
    headers["access-control-allow-origin"] = origin;
    headers["access-control-allow-credentials"] = "true";
    headers["access-control-expose-headers"] = EXPOSED;
    headers.vary = "Origin";
  } else if (cors.includes("*")) {
    // Any origin, but without credentials: echoing every origin with credentials would let any
    // site read streams and publish with its visitors' cookies.
    headers["access-control-allow-origin"] = "*";
    headers["access-control-expose-headers"] = EXPOSED;
  }
  return headers;
}

/**
 * Answers OPTIONS: a CORS preflight gets 204 with the allowed methods and headers, or 403 for an
 * origin not allowed; an OPTIONS without Origin gets 204 with Allow.
 */
export function preflight(req: HubRequest, res: HubResponse, cors: readonly string[]): void {
  const headers = commonHeaders(req, cors);
  if (req.headers.origin === undefined) {
    // Not a CORS preflight (browsers always send Origin): a plain OPTIONS, answered with Allow.
    res.writeHead(204, { ...headers, allow: "GET, HEAD, POST, OPTIONS" });
    res.end();
    return;
  }
  if (headers["access-control-allow-origin"] === undefined) {
    sendText(
      res,
      403,
      `origin ${String(req.headers.origin ?? "(none)")} is not allowed by this hub's CORS origins`,
    );
    return;
  }
  res.writeHead(204, {
    ...headers,
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "Authorization, Cache-Control, Content-Type, Last-Event-ID",
    "access-control-max-age": "600",
  });
  res.end();
}

/** Applies headers to a response whose status is not written yet. */
export function setHeaders(res: HubResponse, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}
