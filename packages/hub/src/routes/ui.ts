/**
 * The web console and demo pages (`/`, `/demo/*`, `/assets/*`, the browser bundles), and in
 * development mode `/ui/dev-token` for loopback clients. Not responsible for the Mercure
 * endpoints, metrics or the ticker's publishing.
 */

import { readFile } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { bundle, UiBundleError } from "./ui-bundles.js";

/** The part of a node:http or node:http2 compatibility request the UI reads. */
export interface UiRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly socket: { readonly remoteAddress?: string | undefined };
}

/** The part of a node:http or node:http2 compatibility response the UI writes. */
export interface UiResponse {
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  end(body?: string | Uint8Array): unknown;
}

export type DevTokenAlgorithm = "HS256" | "HS384" | "HS512";

export interface UiOptions {
  /**
   * Development mode only: the shared secret (and algorithm, default HS256) that publisher and
   * subscriber JWTs are verified with. When set, `GET /ui/dev-token` answers loopback clients that
   * reached the hub by a loopback host name with a JWT allowed to publish and subscribe to every
   * topic (valid one hour). Default: unset, and `/ui/dev-token` answers 404 — never set it outside
   * development, the token is as powerful as the key.
   */
  readonly devToken?: { readonly key: string; readonly alg?: DevTokenAlgorithm } | undefined;
}

/** A route handler: true when it handled the request (the response is then its to finish). */
export type UiHandler = (req: UiRequest, res: UiResponse) => boolean;

const UI_DIR = fileURLToPath(new URL("../../ui/", import.meta.url));

const PAGES: Readonly<Record<string, string>> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/demo/notifications": "notifications.html",
  "/demo/live": "live.html",
};

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
};

/** Asset names are plain file names: no directories, so no way out of ui/assets/. */
const ASSET_NAME = /^[a-z0-9][a-z0-9.-]*\.(css|js|svg|png)$/;

const DEV_TOKEN_TTL_S = 3600;

function extension(name: string): string {
  return name.slice(name.lastIndexOf(".") + 1);
}

function send(res: UiResponse, status: number, type: string, body: string | Uint8Array, head: boolean): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, {
    "content-type": type,
    "content-length": bytes.byteLength,
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  });
  res.end(head ? undefined : bytes);
}

function sendText(res: UiResponse, status: number, text: string, head: boolean): void {
  send(res, status, "text/plain; charset=utf-8", `${text}\n`, head);
}

async function sendFile(res: UiResponse, path: string, head: boolean): Promise<void> {
  try {
    const body = await readFile(path);
    send(res, 200, TYPES[extension(path)] ?? "application/octet-stream", body, head);
  } catch {
    sendText(res, 404, "not found", head);
  }
}

async function sendBundle(res: UiResponse, pending: Promise<string>, head: boolean): Promise<void> {
  try {
    send(res, 200, TYPES.js ?? "text/javascript", await pending, head);
  } catch (error) {
    const reason = error instanceof UiBundleError ? error.message : `bundling failed: ${String(error)}`;
    sendText(res, 503, reason, head);
  }
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") || address === "::1";
}

/** The host name without the port; rejects names a DNS-rebinding page could use. */
function isLoopbackHost(headers: IncomingHttpHeaders): boolean {
  const host = headers[":authority"] ?? headers.host;
  if (typeof host !== "string") return false;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : (host.split(":")[0] ?? "");
  return name === "localhost" || name === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

async function sendDevToken(
  res: UiResponse,
  devToken: NonNullable<UiOptions["devToken"]>,
  head: boolean,
): Promise<void> {
  const expiresAt = Math.floor(Date.now() / 1000) + DEV_TOKEN_TTL_S;
  const token = await new SignJWT({ mercure: { publish: ["*"], subscribe: ["*"] } })
    .setProtectedHeader({ alg: devToken.alg ?? "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(devToken.key));
  const body = JSON.stringify({ token, expiresAt: expiresAt * 1000 });
  send(res, 200, TYPES.json ?? "application/json", body, head);
}

/** Creates the UI's request handler. */
export function createUiRoutes(options: UiOptions = {}): UiHandler {
  const { devToken } = options;
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://hub.invalid").pathname;
    const page = PAGES[path];
    const isAsset = path.startsWith("/assets/");
    const isDevToken = path === "/ui/dev-token";
    if (page === undefined && !isAsset && !isDevToken) return false;

    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      res.end(`${method} is not allowed on ${path}; use GET\n`);
      return true;
    }
    const head = method === "HEAD";

    if (page !== undefined) {
      void sendFile(res, `${UI_DIR}${page}`, head);
    } else if (isDevToken) {
      if (devToken === undefined) {
        sendText(res, 404, "no development token: the hub is not in --dev mode", head);
      } else if (!isLoopbackAddress(req.socket.remoteAddress) || !isLoopbackHost(req.headers)) {
        sendText(res, 403, "the development token is only given to loopback clients (localhost)", head);
      } else {
        void sendDevToken(res, devToken, head).catch((error: unknown) => {
          sendText(res, 500, `cannot sign the development token: ${String(error)}`, head);
        });
      }
    } else {
      const name = path.slice("/assets/".length);
      const pending = bundle(name);
      if (pending !== undefined) void sendBundle(res, pending, head);
      else if (ASSET_NAME.test(name)) void sendFile(res, `${UI_DIR}assets/${name}`, head);
      else sendText(res, 404, "not found", head);
    }
    return true;
  };
}

/** The UI without development conveniences (no `/ui/dev-token`). */
export const serveUi: UiHandler = createUiRoutes();
