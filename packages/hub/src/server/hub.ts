/**
 * The hub's server lifecycle: makes the HTTP/1.1 server (or HTTP/2 with TLS), the transport and the
 * broker, routes each request to its handler (routes/), and shuts down gracefully. Not responsible
 * for what a route does (routes/), delivery (broker/) or storage (transports/).
 */
import { setMaxListeners } from "node:events";
import { createServer as createHttpServer, type Server } from "node:http";
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { Broker } from "../broker/broker.js";
import type { Subscriber, SubscriberHost } from "../broker/subscriber.js";
import { type HubConfig, type HubConfigInput, resolveConfig } from "../config.js";
import { AuthError } from "../domain/auth.js";
import { SUBSCRIPTIONS_PATH } from "../domain/subscription.js";
import { newEventId, type StoredUpdate, type Update } from "../domain/update.js";
import {
  answerClientError,
  commonHeaders,
  HttpError,
  type HubRequest,
  type HubResponse,
  MERCURE_PATH,
  preflight,
  type RequestHead,
  requestUrl,
  sendText,
  sendTextOnStream,
  setHeaders,
} from "../http/http.js";
import { createMetrics, type HubMetrics } from "../metrics.js";
import { Authenticator } from "../routes/authenticate.js";
import type { RouteContext } from "../routes/context.js";
import { healthRoute, isHealthPath } from "../routes/health.js";
import { pollRoute } from "../routes/poll.js";
import { appendUpdate, publishRoute, unavailableError } from "../routes/publish.js";
import { responseAnswer, streamAnswer, subscribeRoute } from "../routes/subscribe.js";
import { subscriptionsRoute } from "../routes/subscriptions.js";
import { createUiRoutes, type UiHandler } from "../routes/ui.js";
import { openTransport } from "../transports/open.js";
import { TransportUnavailableError } from "../transports/transport.js";

/** The address a hub listens on. */
export interface HubAddress {
  readonly port: number;
  readonly host: string;
  /** `http://host:port` (or https with TLS), for clients. */
  readonly url: string;
}

export interface Hub {
  /**
   * Starts listening once the hub follows its transport; port 0 picks a free port. Defaults: the
   * configured port and host. Rejects when the transport is unreachable at start.
   */
  listen(port?: number, host?: string): Promise<HubAddress>;
  /**
   * Graceful shutdown: stops accepting connections, ends every stream after telling its client to
   * reconnect in `retryMs` (default: the configured retry), answers pending polls, closes the transport.
   */
  close(options?: { readonly retryMs?: number }): Promise<void>;
  /** The underlying server (HTTP/1.1, or HTTP/2 with HTTP/1.1 fallback when TLS is configured). */
  readonly server: Server | Http2SecureServer;
  /** The request handler, to mount the hub in another server. */
  handle(req: HubRequest, res: HubResponse): void;
  /** Publishes an update from inside the process, as an authorized publisher would. */
  publish(
    update: Omit<Update, "id" | "private"> & { readonly id?: string; readonly private?: boolean },
  ): Promise<StoredUpdate>;
  /** Resolves once the hub follows its transport (`listen` waits for it too). */
  ready(): Promise<void>;
  readonly metrics: HubMetrics;
  readonly config: HubConfig;
}

/** Streams (subscriptions) one HTTP/2 connection may hold at once; more wait for a free one. */
export const MAX_STREAMS_PER_CONNECTION = 1000;
/** Milliseconds a graceful shutdown waits for the publishes it had admitted to be answered. */
const PUBLISH_GRACE_MS = 5_000;
/** The query of a request that has none; read, never changed. */
const NO_QUERY = new URLSearchParams();
/** Unflushed bytes at which a replay waits for its client to read (at most half the slow-consumer bound). */
const REPLAY_HIGH_WATER = 256 * 1024;

class HubImpl implements Hub {
  readonly config: HubConfig;
  readonly metrics: HubMetrics = createMetrics();
  readonly server: Server | Http2SecureServer;
  readonly #log: Logger;
  readonly #broker: Broker;
  readonly #context: RouteContext;
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<Http2Session>();
  readonly #ui: UiHandler | undefined;
  #closing: Promise<void> | undefined;
  /** Aborted when the shutdown starts: held polls are answered. */
  readonly #closingSignal = new AbortController();
  /** Publish requests being answered: a graceful shutdown answers them before closing. */
  #publishing = 0;
  /** Called when the last publish being answered is, once a shutdown waits for that. */
  #drained: (() => void) | undefined;
  readonly #publishAnswered = (): void => {
    if (--this.#publishing === 0) this.#drained?.();
  };

  constructor(config: HubConfig) {
    this.config = config;
    this.#log = config.logger;
    this.#broker = new Broker({
      transport: openTransport(config),
      metrics: this.metrics,
      log: this.#log,
      subscriptionEvents: config.subscriptions,
    });
    // Every held poll listens, and stops listening when answered.
    setMaxListeners(0, this.#closingSignal.signal);
    const subscriberHost: SubscriberHost = {
      maxBufferedBytes: config.maxBufferedBytes,
      replayHighWater: Math.min(REPLAY_HIGH_WATER, Math.floor(config.maxBufferedBytes / 2)),
      heartbeatMs: config.heartbeatMs,
      retryMs: config.retryMs,
      onClose: (subscriber, reason) => this.#removeSubscriber(subscriber, reason),
      onDeliver: (count) => this.metrics.delivered.inc(count),
    };
    this.#context = {
      config,
      broker: this.#broker,
      authenticate: new Authenticator(config),
      metrics: this.metrics,
      log: this.#log,
      subscriberHost,
      closing: this.#closingSignal.signal,
    };
    const handler = (req: HubRequest, res: HubResponse) => this.handle(req, res);
    if (config.tls !== undefined) {
      // Node advertises no stream limit, yet past ~10,000 streams on one connection its 10 MB
      // per-connection memory bound refuses streams and then drops the whole connection; with a
      // limit, clients and proxies queue or open another connection instead.
      const server = createSecureServer(
        {
          cert: config.tls.cert,
          key: config.tls.key,
          allowHTTP1: true,
          settings: { maxConcurrentStreams: MAX_STREAMS_PER_CONNECTION },
        },
        handler,
      );
      server.on("session", (session) => {
        this.#sessions.add(session);
        session.on("close", () => this.#sessions.delete(session));
      });
      this.#serveSubscriptionStreams(server);
      this.server = server;
    } else {
      this.server = createHttpServer(handler);
    }
    this.server.on("clientError", answerClientError);
    const sockets = this.#sockets;
    // One listener for every socket (`this` is the socket): no closure per connection.
    function forgetSocket(this: Socket): void {
      sockets.delete(this);
    }
    this.server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.on("close", forgetSocket);
    });
    if (config.ui) {
      const key = config.publisherKey;
      const devToken =
        config.dev && key !== undefined && "secret" in key ? { key: key.secret, alg: key.alg } : undefined;
      this.#ui = createUiRoutes({ devToken });
    }
  }

  ready(): Promise<void> {
    return this.#broker.ready();
  }

  async listen(port = this.config.port, host = this.config.host): Promise<HubAddress> {
    await this.#broker.ready();
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once("error", onError);
      this.server.listen(port, host, () => {
        this.server.off("error", onError);
        const address = this.server.address();
        const actual = typeof address === "object" && address !== null ? address.port : port;
        const scheme = this.config.tls === undefined ? "http" : "https";
        const urlHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
        const url = `${scheme}://${urlHost}:${actual}`;
        this.#log.info({ url }, "hub listening");
        resolve({ port: actual, host, url });
      });
    });
  }

  handle(req: HubRequest, res: HubResponse): void {
    if (req.method !== "POST" || this.#closing !== undefined) {
      this.#route(req, res).catch((error: unknown) => this.#fail(req, res, error));
      return;
    }
    // A graceful shutdown answers the publishes it has admitted before it closes their sockets.
    this.#publishing++;
    // What publishers send, a POST to the Mercure path without a query, needs no URL parsed.
    const handled =
      req.url === MERCURE_PATH
        ? publishRoute(this.#context, req, res, NO_QUERY, commonHeaders(req, this.config.cors))
        : this.#route(req, res);
    handled.then(this.#publishAnswered, (error: unknown) => {
      try {
        this.#fail(req, res, error);
      } finally {
        this.#publishAnswered();
      }
    });
  }

  #fail(req: HubRequest, res: HubResponse, error: unknown): void {
    // Discovery and CORS headers, which an event stream request had not set yet.
    if (!res.headersSent) setHeaders(res, commonHeaders(req, this.config.cors));
    const answer = this.#errorAnswer(error);
    sendText(res, answer.status, answer.message, answer.headers);
  }

  /** What a failed request is answered with: its own HttpError, 503, 401, or 500 (logged). */
  #errorAnswer(error: unknown): HttpError {
    const answer = error instanceof TransportUnavailableError ? unavailableError(error) : error;
    if (answer instanceof HttpError) return answer;
    if (error instanceof AuthError)
      return new HttpError(401, error.message, { "www-authenticate": 'Bearer error="invalid_token"' });
    this.#log.error({ err: error }, "request failed");
    return new HttpError(500, "internal error; see the hub's log");
  }

  async #route(req: HubRequest, res: HubResponse): Promise<void> {
    // Subscriptions and polls read in one burst (a thousand clients connecting together) take
    // turns once the loop has been busy for a slice, before any of their work; publishes do not.
    if (req.method !== "POST" && req.url?.startsWith(MERCURE_PATH) === true) {
      const paced = this.#broker.slicer.pace();
      if (paced !== undefined) await paced;
    }
    const url = requestUrl(req);
    const method = req.method ?? "GET";
    const context = this.#context;
    if (this.#closing !== undefined) throw shuttingDown();
    if (method === "OPTIONS") {
      preflight(req, res, this.config.cors);
      return;
    }
    const common = commonHeaders(req, this.config.cors);
    const path = url.pathname;
    // An event stream and a publish pass these to writeHead instead: headers set before writeHead
    // stay in the response (a dictionary of [name, value] arrays) for as long as the stream is
    // open, and are merged into the ones given to writeHead. Errors get them in #fail.
    if (!(path === MERCURE_PATH && (method === "GET" || method === "POST"))) setHeaders(res, common);
    if (path === MERCURE_PATH) {
      if (method === "GET" || method === "HEAD") {
        const poll = url.searchParams.get("poll");
        if (poll !== null && poll !== "1")
          throw new HttpError(
            400,
            `"poll" must be 1 to poll, or left out to stream (got "${poll.slice(0, 40)}")`,
          );
        if (poll === "1") {
          setHeaders(res, common);
          await pollRoute(context, req, res, url);
        } else await subscribeRoute(context, req, responseAnswer(req, res), url, common);
      } else if (method === "POST") {
        await publishRoute(context, req, res, url.searchParams, common);
      } else {
        throw new HttpError(
          405,
          `${method} is not allowed on ${MERCURE_PATH}; use GET to subscribe or POST to publish`,
          { allow: "GET, POST, OPTIONS" },
        );
      }
      return;
    }
    if (path === SUBSCRIPTIONS_PATH || path.startsWith(`${SUBSCRIPTIONS_PATH}/`)) {
      await subscriptionsRoute(context, req, res, url);
      return;
    }
    if (isHealthPath(path)) {
      await healthRoute(context, req, res, path);
      return;
    }
    if (this.#ui?.(req, res) === true) return;
    throw new HttpError(404, `not found: ${path}`);
  }

  /**
   * HTTP/2 subscriptions (`GET` or `HEAD` on the hub's path, not a poll) are served on the stream
   * itself, without the compatibility API's request and response (2 to 3 KiB per open stream that
   * the process would keep from then on); every other stream goes to node:http2's own
   * compatibility listener, and so to `handle`, as before. When that listener is not where this
   * Node version is known to put it, every stream goes to it.
   */
  #serveSubscriptionStreams(server: Http2SecureServer): void {
    const compat = server.listeners("stream").find((listener) => listener.name === COMPAT_STREAM_LISTENER);
    if (compat === undefined || server.listenerCount("stream") !== 1) return;
    server.removeListener("stream", compat as () => void);
    server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, ...rest: unknown[]) => {
      const req: RequestHead = { method: headers[":method"], url: headers[":path"], headers };
      const url = subscriptionUrl(req);
      if (url === undefined) {
        compat.call(server, stream, headers, ...rest);
        return;
      }
      this.#subscribeOnStream(stream, req, url).catch((error: unknown) =>
        this.#failOnStream(stream, req, error),
      );
    });
  }

  async #subscribeOnStream(stream: ServerHttp2Stream, req: RequestHead, url: URL): Promise<void> {
    const paced = this.#broker.slicer.pace();
    if (paced !== undefined) await paced;
    if (this.#closing !== undefined) throw shuttingDown();
    const common = commonHeaders(req, this.config.cors);
    await subscribeRoute(this.#context, req, streamAnswer(stream, req), url, common);
  }

  /** `#fail` for a subscription served on its HTTP/2 stream. */
  #failOnStream(stream: ServerHttp2Stream, req: RequestHead, error: unknown): void {
    const common = stream.headersSent ? {} : commonHeaders(req, this.config.cors);
    const answer = this.#errorAnswer(error);
    sendTextOnStream(stream, answer.status, answer.message, { ...common, ...answer.headers });
  }

  #removeSubscriber(subscriber: Subscriber, reason: string): void {
    if (!this.#broker.remove(subscriber)) return;
    this.#log.debug({ subscriber: subscriber.id, reason }, "unsubscribed");
    if (this.#closing === undefined) void this.#broker.announce(subscriber, false);
  }

  publish(
    input: Omit<Update, "id" | "private"> & { readonly id?: string; readonly private?: boolean },
  ): Promise<StoredUpdate> {
    if (this.#closing !== undefined) return Promise.reject(new HttpError(503, "the hub is shutting down"));
    const { id, ...rest } = input;
    return appendUpdate(this.#context, {
      ...rest,
      id: id ?? newEventId(),
      private: input.private ?? false,
    });
  }

  close(options: { readonly retryMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#shutdown(options.retryMs ?? this.config.retryMs);
    return this.#closing;
  }

  async #shutdown(retryMs: number): Promise<void> {
    this.#closingSignal.abort();
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) resolve();
      else this.server.close(() => resolve());
    });
    for (const subscriber of [...this.#broker.subscribers]) subscriber.close("hub shutting down", retryMs);
    // Publishes admitted before the shutdown are answered (stored and acknowledged, or refused
    // with a reason), so that no publisher is left unsure whether its update was stored; one whose
    // body has not arrived within the grace period is cut off before anything of it was stored.
    if (this.#publishing > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#drained = resolve;
        }),
        new Promise((resolve) => {
          timer = setTimeout(resolve, PUBLISH_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    // Answered polls and ended streams leave idle keep-alive connections: close them.
    await new Promise((resolve) => setImmediate(resolve));
    for (const session of this.#sessions) session.close();
    for (const socket of this.#sockets) {
      if (!("alpnProtocol" in socket && socket.alpnProtocol === "h2")) socket.end();
    }
    const grace = setTimeout(() => {
      for (const socket of this.#sockets) socket.destroy();
    }, 2_000);
    await closed;
    clearTimeout(grace);
    await this.#broker.close();
    this.metrics.stop();
    this.#log.info("hub closed");
  }
}

/** The answer to a request that comes while the hub shuts down. */
function shuttingDown(): HttpError {
  return new HttpError(503, "the hub is shutting down; retry on another hub", { "retry-after": "1" });
}

/** The name node:http2 gives the listener that makes its compatibility request and response. */
const COMPAT_STREAM_LISTENER = "bound onServerStream";

/**
 * The URL of a request that subscribes to a stream (`GET` or `HEAD` on the hub's path without
 * `poll`), else undefined: polls, other routes and malformed targets take the usual way, which
 * answers them.
 */
function subscriptionUrl(req: RequestHead): URL | undefined {
  if ((req.method !== "GET" && req.method !== "HEAD") || req.url?.startsWith(MERCURE_PATH) !== true)
    return undefined;
  try {
    const url = requestUrl(req);
    return url.pathname === MERCURE_PATH && !url.searchParams.has("poll") ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates a hub (not yet listening). The input is validated and completed with defaults here,
 * always: a resolved `HubConfig` is itself a valid input and resolves to the same settings.
 */
export function createHub(config: HubConfigInput): Hub {
  return new HubImpl(resolveConfig(config));
}
