/**
 * The HTTP edge shared by the routes: the request and response types of node:http and the
 * node:http2 compatibility API, one-line text/plain errors, body reading with a size bound, the
 * discovery `Link` header and CORS. Not responsible for routing or any Mercure semantics.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

export type HubRequest = IncomingMessage | Http2ServerRequest;
export type HubResponse = ServerResponse | Http2ServerResponse;

export const MERCURE_PATH = "/.well-known/mercure";

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
  const body = `${text.replace(/[\r\n]+/g, " ")}\n`;
  res.writeHead(status, {
    ...headers,
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(body);
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

/** Reads the whole body, failing with 413 past `limit` bytes. */
export function readBody(req: HubRequest, limit: number): Promise<Buffer> {
  const length = Number(req.headers["content-length"]);
  if (Number.isFinite(length) && length > limit) {
    return Promise.reject(
      new HttpError(413, `the body is ${length} bytes; this hub accepts at most ${limit}`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.resume();
        reject(new HttpError(413, `the body is larger than ${limit} bytes, the most this hub accepts`));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The headers every response carries: discovery and, for allowed origins, CORS. */
export function commonHeaders(req: HubRequest, cors: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = { link: `<${MERCURE_PATH}>; rel="mercure"` };
  const origin = req.headers.origin;
  if (typeof origin === "string" && (cors.includes("*") || cors.includes(origin))) {
    headers["access-control-allow-origin"] = origin;
    headers["access-control-allow-credentials"] = "true";
    headers["access-control-expose-headers"] = "Link, Last-Event-ID, Mercure-Last-Event-ID, WWW-Authenticate";
    headers.vary = "Origin";
  }
  return headers;
}

/** Answers a CORS preflight: 204 with the allowed methods and headers, or 403 for other origins. */
export function preflight(req: HubRequest, res: HubResponse, cors: readonly string[]): void {
  const headers = commonHeaders(req, cors);
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

/** Bytes written but not yet flushed to the socket, on either protocol. */
export function buffered(res: HubResponse): number {
  return "stream" in res ? res.stream.writableLength : res.writableLength;
}

export function isHttp2(req: HubRequest): boolean {
  return req.httpVersionMajor === 2;
}

/** Writes a chunk on either protocol (their `write` overloads do not unify in TypeScript). */
export function writeChunk(res: HubResponse, chunk: Uint8Array | string): boolean {
  const writable: { write(chunk: Uint8Array | string): boolean } = res;
  return writable.write(chunk);
}
