/**
 * The hub: owns the server, the store, the live subscribers and the routes of the Mercure
 * endpoint (subscribe, publish, poll), the subscriptions API, `/healthz`, `/metrics` and the UI
 * mount. Publishing appends to the store first (an update is acknowledged only once durable), then
 * fans the encoded bytes out to every subscriber that may receive them. Not responsible for
 * configuration parsing (config.ts), token verification (auth.ts) or topic matching (topics.ts).
 */
import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import { createSecureServer, type Http2SecureServer, type Http2Session } from "node:http2";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { encodeHeaderId } from "ssekit/protocol";
import { ANONYMOUS, AuthError, canPublish, canReceive, findToken, type Rights, Verifier } from "./auth.js";
import { ConfigError, type HubConfig, type HubConfigInput, isResolved, resolveConfig } from "./config.js";
import { Fanout, patternCount } from "./fanout.js";
import {
  answerClientError,
  commonHeaders,
  HttpError,
  type HubRequest,
  type HubResponse,
  isHttp2,
  MERCURE_PATH,
  preflight,
  readBody,
  requestUrl,
  sendJson,
  sendText,
  setHeaders,
} from "./http.js";
import { createMetrics, type HubMetrics } from "./metrics.js";
import { answerPoll } from "./poll.js";
import { parseUpdate } from "./publish.js";
import { replayHistory } from "./replay.js";
import { requestedLastEventId, requestedSelectors } from "./selectors.js";
import { Slicer } from "./slices.js";
import { MemoryStore } from "./stores/memory.js";
import { SqliteStore } from "./stores/sqlite.js";
import {
  type AfterResult,
  DuplicateIdError,
  PAGE_BYTES,
  type Store,
  type StoredUpdate,
  sameUpdate,
  storedUpdate,
  type Update,
} from "./stores/store.js";
import { Dispatch, dispatchOf, Subscriber, type SubscriberHost } from "./subscriber.js";
import {
  documentsOf,
  SUBSCRIPTIONS_PATH,
  subscriptionEventData,
  subscriptionsResponse,
} from "./subscriptions.js";
import { startTicker, type Ticker } from "./ticker.js";
import { TokenCache, type TokenVerifier } from "./token-cache.js";
import type { Selector } from "./topics.js";
import { createUiRoutes, type UiHandler } from "./ui-routes.js";

/** The address a hub listens on. */
export interface HubAddress {
  readonly port: number;
  readonly host: string;
  /** `http://host:port` (or https with TLS), for clients. */
  readonly url: string;
}

export interface Hub {
  /** Starts listening; port 0 picks a free port. Defaults: the configured port and host. */
  listen(port?: number, host?: string): Promise<HubAddress>;
  /**
   * Graceful shutdown: stops accepting connections, ends every stream after telling its client to
   * reconnect in `retryMs` (default: the configured retry), answers pending polls, closes the store.
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
  readonly metrics: HubMetrics;
  readonly config: HubConfig;
}

const PAGE = 1000;
/** Subscription-event ids remembered as positions in history, for a Last-Event-ID naming one. */
const EPHEMERAL_POSITIONS = 10_000;
/** Streams (subscriptions) one HTTP/2 connection may hold at once; more wait for a free one. */
export const MAX_STREAMS_PER_CONNECTION = 1000;
const PRUNE_INTERVAL_MS = 10_000;
/** Milliseconds a graceful shutdown waits for the publishes it had admitted to be answered. */
const PUBLISH_GRACE_MS = 5_000;

function openStore(config: HubConfig): Store {
  const limits = { maxEvents: config.historyMaxEvents, maxAgeMs: config.historyMaxAgeMs };
  switch (config.store.kind) {
    case "memory":
      return new MemoryStore(limits);
    case "sqlite":
      try {
        return new SqliteStore({ ...limits, path: config.store.path, durability: config.store.durability });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ConfigError(
          "store",
          `store: cannot open the SQLite database ${config.store.path} (${reason}); name a writable file that is an SQLite database or does not exist yet`,
        );
      }
    case "redis":
      throw new ConfigError(
        "store",
        "the Redis store is not available in this version; use memory or sqlite:PATH",
      );
  }
}

/** Unflushed bytes at which a replay waits for its client to read (at most half the slow-consumer bound). */
const REPLAY_HIGH_WATER = 256 * 1024;

/** Clients send the same JWT again and again: a verified token is reused until it expires. */
const cached = (verifier: Verifier): TokenVerifier => new TokenCache(verifier);

class HubImpl implements Hub {
  readonly config: HubConfig;
  readonly metrics: HubMetrics = createMetrics();
  readonly server: Server | Http2SecureServer;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #publisherVerifier: TokenVerifier | undefined;
  readonly #subscriberVerifier: TokenVerifier | undefined;
  readonly #subscribers = new Fanout();
  readonly #pollListeners = new Set<(update: StoredUpdate) => void>();
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<Http2Session>();
  readonly #ui: UiHandler | undefined;
  #ticker: Ticker | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  /** One timer writes every subscriber's heartbeat: none per subscriber. */
  #heartbeatTimer: NodeJS.Timeout | undefined;
  /** Shared by every subscriber of this hub. */
  readonly #subscriberHost: SubscriberHost;
  #closing: Promise<void> | undefined;
  #signalClosing: () => void = () => undefined;
  readonly #closingSignal: Promise<void>;
  /** Hands out time slices to replays and poll scans, so that none holds the event loop. */
  readonly #slicer = new Slicer();
  /** The id of the newest update in history, and of the newest public one (see `#currentId`). */
  #newestId: Promise<string>;
  #newestPublicId: Promise<string>;
  /**
   * Subscription events are not kept in history (anonymous clients would evict published updates
   * by connecting): each one's id maps to the newest update in history when it was sent, so a
   * client whose last event was one resumes right after that position.
   */
  readonly #ephemeralPositions = new Map<string, string>();
  /** Publish requests being answered: a graceful shutdown answers them before closing. */
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(config: HubConfig) {
    this.config = config;
    this.#log = config.logger;
    this.#store = openStore(config);
    this.#newestId = this.#store.lastEventId();
    this.#newestPublicId = this.#store.lastPublicEventId();
    // Read again when used; a failure here is the store's to report then.
    this.#newestId.catch(() => undefined);
    this.#newestPublicId.catch(() => undefined);
    this.#publisherVerifier =
      config.publisherKey && cached(new Verifier(config.publisherKey, config.resourceIdentifier));
    this.#subscriberVerifier =
      config.subscriberKey && cached(new Verifier(config.subscriberKey, config.resourceIdentifier));
    this.#closingSignal = new Promise((resolve) => {
      this.#signalClosing = resolve;
    });
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
    this.#subscriberHost = {
      maxBufferedBytes: config.maxBufferedBytes,
      replayHighWater: Math.min(REPLAY_HIGH_WATER, Math.floor(config.maxBufferedBytes / 2)),
      onClose: (subscriber, reason) => this.#removeSubscriber(subscriber, reason),
      onDeliver: (count) => this.metrics.delivered.inc(count),
    };
    if (config.heartbeatMs > 0) {
      // Each subscriber's first heartbeat comes within one interval of subscribing, then one per interval.
      this.#heartbeatTimer = setInterval(() => {
        for (const subscriber of this.#subscribers) subscriber.heartbeat();
      }, config.heartbeatMs);
      this.#heartbeatTimer.unref();
    }
    if (config.ui) {
      const key = config.publisherKey;
      const devToken =
        config.dev && key !== undefined && "secret" in key ? { key: key.secret, alg: key.alg } : undefined;
      this.#ui = createUiRoutes({ devToken });
    }
    this.#pruneTimer = setInterval(() => void this.#prune(), PRUNE_INTERVAL_MS);
    this.#pruneTimer.unref();
    void this.#prune();
  }

  async #prune(): Promise<void> {
    try {
      const removed = await this.#store.prune();
      if (removed > 0) this.#log.debug({ removed }, "pruned history");
    } catch (error) {
      this.#log.error({ err: error }, "pruning history failed");
    }
  }

  listen(port = this.config.port, host = this.config.host): Promise<HubAddress> {
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
        if (this.config.dev && this.config.ui && this.#ticker === undefined) {
          this.#ticker = startTicker({
            publish: ({ topic, data }) => this.publish({ topics: [topic], data }),
            onError: (error) => this.#log.warn({ err: error }, "ticker publish failed"),
          });
        }
        resolve({ port: actual, host, url });
      });
    });
  }

  handle(req: HubRequest, res: HubResponse): void {
    const handled = this.#route(req, res).catch((error: unknown) => this.#fail(req, res, error));
    // A graceful shutdown answers the publishes it has admitted before it closes their sockets.
    if (req.method === "POST" && this.#closing === undefined) {
      this.#inFlight.add(handled);
      void handled.finally(() => this.#inFlight.delete(handled));
    }
  }

  #fail(req: HubRequest, res: HubResponse, error: unknown): void {
    // Discovery and CORS headers, which an event stream request had not set yet.
    if (!res.headersSent) setHeaders(res, commonHeaders(req, this.config.cors));
    if (error instanceof HttpError) {
      sendText(res, error.status, error.message, error.headers);
    } else if (error instanceof AuthError) {
      sendText(res, 401, error.message, { "www-authenticate": 'Bearer error="invalid_token"' });
    } else {
      this.#log.error({ err: error }, "request failed");
      sendText(res, 500, "internal error; see the hub's log");
    }
  }

  async #route(req: HubRequest, res: HubResponse): Promise<void> {
    const url = requestUrl(req);
    const method = req.method ?? "GET";
    if (this.#closing !== undefined)
      throw new HttpError(503, "the hub is shutting down; retry on another hub", { "retry-after": "1" });
    if (method === "OPTIONS") {
      preflight(req, res, this.config.cors);
      return;
    }
    const common = commonHeaders(req, this.config.cors);
    const path = url.pathname;
    // An event stream passes these to writeHead instead: headers set before writeHead stay in the
    // response (a dictionary of [name, value] arrays) for as long as the stream is open. Errors
    // get them in #fail.
    if (!(path === MERCURE_PATH && method === "GET")) setHeaders(res, common);
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
          await this.#poll(req, res, url);
        } else await this.#subscribe(req, res, url, common);
      } else if (method === "POST") {
        await this.#publishRoute(req, res, url);
      } else {
        throw new HttpError(
          405,
          `${method} is not allowed on ${MERCURE_PATH}; use GET to subscribe or POST to publish`,
          {
            allow: "GET, POST, OPTIONS",
          },
        );
      }
      return;
    }
    if (path === SUBSCRIPTIONS_PATH || path.startsWith(`${SUBSCRIPTIONS_PATH}/`)) {
      await this.#subscriptionsRoute(req, res, url, method);
      return;
    }
    if ((path === "/healthz" || path === "/metrics") && method !== "GET" && method !== "HEAD")
      throw new HttpError(405, `${method} is not allowed on ${path}; use GET`, { allow: "GET, HEAD" });
    if (path === "/healthz") {
      sendText(res, 200, "ok");
      return;
    }
    if (path === "/metrics") {
      const body = await this.metrics.registry.metrics();
      res.writeHead(200, { "content-type": this.metrics.registry.contentType });
      res.end(body);
      return;
    }
    if (this.#ui?.(req, res) === true) return;
    throw new HttpError(404, `not found: ${path}`);
  }

  /** The rights of a subscribing request: its verified token, else anonymous if allowed. */
  async #subscriberRights(req: HubRequest, query: URLSearchParams): Promise<Rights> {
    const found = findToken(req.headers, query);
    if (found === undefined) {
      if (this.config.anonymous) return ANONYMOUS;
      throw new HttpError(
        401,
        "a subscriber JWT is required (Authorization: Bearer, the mercureAuthorization cookie or the authorization query parameter)",
        {
          "www-authenticate": "Bearer",
        },
      );
    }
    if (this.#subscriberVerifier === undefined)
      throw new AuthError("this hub has no subscriber key configured");
    return this.#subscriberVerifier.verify(found.token);
  }

  async #subscribe(
    req: HubRequest,
    res: HubResponse,
    url: URL,
    common: Readonly<Record<string, string>>,
  ): Promise<void> {
    const paced = this.#slicer.pace();
    if (paced !== undefined) await paced;
    const selectors = requestedSelectors(url.searchParams);
    this.#checkPatterns(selectors);
    const rights = await this.#subscriberRights(req, url.searchParams);
    const requested = requestedLastEventId(req, url.searchParams);
    if (res.destroyed || res.writableEnded) return;
    // Checked again now that the token is verified: other subscriptions may have come meanwhile.
    if (req.method !== "HEAD") this.#checkPatterns(selectors);
    // HEAD is checked as a subscription would be and answered with its headers; no subscriber made.
    const subscriber =
      req.method === "HEAD" ? undefined : new Subscriber(res, selectors, rights, this.#subscriberHost);
    if (subscriber !== undefined) {
      // Live first (held in the subscriber's buffer), then history: no gap, and seq dedupes.
      this.#subscribers.add(subscriber);
      this.metrics.connections.inc();
      this.metrics.subscriptions.inc(selectors.length);
    }
    const current = await this.#newestPublicId;
    let first: readonly StoredUpdate[] = [];
    let reconciled = current;
    if (requested !== undefined) {
      const result = await this.#after(requested, subscriber === undefined ? 1 : PAGE);
      first = result.updates;
      reconciled = result.kind === "found" ? requested : "earliest";
    }
    const headers: Record<string, string> = {
      ...common,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      // 0.x: the hub's newest id at subscription time; 1.0: the id replay starts after.
      // Ids as UTF-8 bytes, as clients send them (a published id may be any text).
      "last-event-id": encodeHeaderId(current),
      "mercure-last-event-id": encodeHeaderId(reconciled),
    };
    if (!isHttp2(req)) headers.connection = "keep-alive";
    if (subscriber === undefined) {
      res.writeHead(200, headers);
      res.end();
      return;
    }
    subscriber.open(req, headers, `:\nretry: ${this.config.retryMs}\n\n`);
    this.#log.debug({ subscriber: subscriber.id, topics: selectors.map((s) => s.text) }, "subscribed");
    if (this.config.subscriptions) void this.#announce(subscriber, true);
    await replayHistory(this.#store, this.#slicer, subscriber, first);
    subscriber.goLive();
  }

  /**
   * 400 when `selectors` has more patterns than one subscription may carry, 429 when the hub's
   * subscriptions would use more distinct patterns than it allows: each pattern runs on every
   * public update, so their number is what a stream of updates costs.
   */
  #checkPatterns(selectors: readonly Selector[]): void {
    const patterns = patternCount(selectors);
    if (patterns === 0) return;
    const { maxPatternSelectors, maxDistinctPatterns } = this.config;
    if (patterns > maxPatternSelectors)
      throw new HttpError(
        400,
        `this subscription has ${patterns} pattern selectors (URI templates, URL Patterns, *); this hub accepts at most ${maxPatternSelectors} per subscription (maxPatternSelectors)`,
      );
    if (this.#subscribers.distinctPatterns + this.#subscribers.newPatterns(selectors) > maxDistinctPatterns)
      throw new HttpError(
        429,
        `this hub's subscriptions already use ${this.#subscribers.distinctPatterns} distinct pattern selectors, its limit (maxDistinctPatterns is ${maxDistinctPatterns}); retry later or subscribe with exact topics`,
        { "retry-after": "10" },
      );
  }

  /** `store.after`, also for the id of a subscription event (which history does not keep). */
  async #after(lastEventId: string, limit: number, maxBytes = PAGE_BYTES): Promise<AfterResult> {
    const position = this.#ephemeralPositions.get(lastEventId);
    if (position === undefined) return this.#store.after(lastEventId, limit, maxBytes);
    // The update it followed may have left history since: then everything kept is after it.
    const result = await this.#store.after(position, limit, maxBytes);
    return { kind: "found", updates: result.updates };
  }

  #removeSubscriber(subscriber: Subscriber, reason: string): void {
    if (!this.#subscribers.delete(subscriber)) return;
    this.metrics.connections.dec();
    this.metrics.subscriptions.dec(subscriber.selectors.length);
    this.#log.debug({ subscriber: subscriber.id, reason }, "unsubscribed");
    if (this.config.subscriptions && this.#closing === undefined) void this.#announce(subscriber, false);
  }

  /**
   * Publishes the subscription events of `subscriber` (one per selector). They are private and
   * live only: not kept in history, where subscribers coming and going (anonymous ones too) would
   * evict published updates; the subscriptions API gives the current state. Each id is remembered
   * as a position in history, for a client that resumes from it.
   */
  async #announce(subscriber: Subscriber, active: boolean): Promise<void> {
    // Subscription events are private: only a subscriber whose token grants topics can get one.
    if (!this.#subscribers.anyGranted) return;
    try {
      const position = await this.#newestId;
      const slice = this.#slicer.slice();
      for (const doc of documentsOf(subscriber, active)) {
        if (slice.spent(16)) {
          await this.#slicer.turn();
          slice.restart();
        }
        const id = `urn:uuid:${randomUUID()}`;
        const update = storedUpdate(
          { id, topics: [doc.id], data: subscriptionEventData(doc), private: true },
          0,
          Date.now(),
        );
        this.#ephemeralPositions.set(id, position);
        if (this.#ephemeralPositions.size > EPHEMERAL_POSITIONS) {
          const oldest = this.#ephemeralPositions.keys().next();
          if (oldest.done !== true) this.#ephemeralPositions.delete(oldest.value);
        }
        const delivered = this.#subscribers.dispatch(new Dispatch(update, true));
        if (delivered > 0) this.metrics.delivered.inc(delivered);
      }
    } catch (error) {
      this.#log.warn({ err: error }, "publishing a subscription event failed");
    }
  }

  async #poll(req: HubRequest, res: HubResponse, url: URL): Promise<void> {
    const paced = this.#slicer.pace();
    if (paced !== undefined) await paced;
    const selectors = requestedSelectors(url.searchParams);
    const rights = await this.#subscriberRights(req, url.searchParams);
    await answerPoll(
      {
        store: {
          after: (id, limit, maxBytes) => this.#after(id, limit, maxBytes),
          afterSeq: (seq, limit, maxBytes) => this.#store.afterSeq(seq, limit, maxBytes),
        },
        maxTimeoutMs: this.config.maxPollTimeoutMs,
        retryMs: this.config.retryMs,
        maxBytes: this.config.maxPollBytes,
        slicer: this.#slicer,
        closing: this.#closingSignal,
        listen: (listener) => {
          this.#pollListeners.add(listener);
          return () => this.#pollListeners.delete(listener);
        },
      },
      req,
      res,
      url.searchParams,
      (update) => canReceive(update, selectors, rights),
      () => this.#newestPublicId,
    );
    this.metrics.polls.inc();
  }

  async #publishRoute(req: HubRequest, res: HubResponse, url: URL): Promise<void> {
    const started = process.hrtime.bigint();
    const found = findToken(req.headers, url.searchParams);
    if (found === undefined) {
      throw new HttpError(
        401,
        "a publisher JWT is required (Authorization: Bearer, or the mercureAuthorization cookie)",
        {
          "www-authenticate": "Bearer",
        },
      );
    }
    if (this.#publisherVerifier === undefined)
      throw new AuthError("this hub has no publisher key configured; it accepts no publishes");
    const rights = await this.#publisherVerifier.verify(found.token);
    if (found.source === "cookie") {
      const origin = req.headers.origin;
      const allowed = this.config.publishOrigins;
      if (typeof origin !== "string" || !allowed.includes(origin)) {
        throw new HttpError(
          403,
          `publishing with a cookie token requires an Origin among the publish origins (got ${String(origin ?? "none")})`,
        );
      }
    }
    const body = await readBody(req, this.config.maxBodyBytes, this.config.bodyTimeoutMs);
    const update = parseUpdate(req.headers["content-type"], body);
    if (!canPublish(update.topics, rights)) {
      throw new HttpError(
        403,
        "the JWT's mercure.publish claim does not allow publishing on every topic of this update",
      );
    }
    let stored: StoredUpdate;
    try {
      stored = await this.#append(update);
    } catch (error) {
      if (!(error instanceof DuplicateIdError)) throw error;
      // A publisher retrying after a lost answer: the same update under the same id is already
      // stored (and was delivered once); acknowledge it again. A different update is a conflict.
      if (error.existing === undefined || !sameUpdate(error.existing, update))
        throw new HttpError(409, error.message);
      stored = error.existing;
    }
    const body200 = `${stored.id}`;
    res.writeHead(200, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(body200),
    });
    res.end(body200);
    this.metrics.publishLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  publish(
    input: Omit<Update, "id" | "private"> & { readonly id?: string; readonly private?: boolean },
  ): Promise<StoredUpdate> {
    if (this.#closing !== undefined) return Promise.reject(new HttpError(503, "the hub is shutting down"));
    const { id, ...rest } = input;
    return this.#append({ ...rest, id: id ?? `urn:uuid:${randomUUID()}`, private: input.private ?? false });
  }

  /** Appends to the store, then fans out; appends resolve in call order, so dispatch keeps the log's order. */
  async #append(update: Update): Promise<StoredUpdate> {
    const stored = await this.#store.append(update);
    this.#newestId = Promise.resolve(stored.id);
    if (!stored.private) this.#newestPublicId = Promise.resolve(stored.id);
    this.metrics.published.inc();
    const delivered = this.#subscribers.dispatch(dispatchOf(stored));
    if (delivered > 0) this.metrics.delivered.inc(delivered);
    for (const listener of this.#pollListeners) listener(stored);
    return stored;
  }

  async #subscriptionsRoute(req: HubRequest, res: HubResponse, url: URL, method: string): Promise<void> {
    if (!this.config.subscriptions) throw new HttpError(404, "the subscriptions API is disabled on this hub");
    if (method !== "GET" && method !== "HEAD")
      throw new HttpError(405, `${method} is not allowed on the subscriptions API; use GET`, {
        allow: "GET, HEAD, OPTIONS",
      });
    const found = findToken(req.headers, url.searchParams);
    if (found === undefined)
      throw new HttpError(401, "the subscriptions API requires a subscriber JWT", {
        "www-authenticate": "Bearer",
      });
    if (this.#subscriberVerifier === undefined)
      throw new AuthError("this hub has no subscriber key configured");
    const rights = await this.#subscriberVerifier.verify(found.token);
    const document = subscriptionsResponse(
      url.pathname,
      this.#subscribers,
      rights,
      await this.#newestPublicId,
    );
    sendJson(res, 200, document, "application/ld+json");
  }

  close(options: { readonly retryMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#shutdown(options.retryMs ?? this.config.retryMs);
    return this.#closing;
  }

  async #shutdown(retryMs: number): Promise<void> {
    this.#ticker?.stop();
    clearInterval(this.#pruneTimer);
    clearInterval(this.#heartbeatTimer);
    this.#signalClosing();
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) resolve();
      else this.server.close(() => resolve());
    });
    for (const subscriber of [...this.#subscribers]) subscriber.close("hub shutting down", retryMs);
    // Publishes admitted before the shutdown are answered (stored and acknowledged, or refused
    // with a reason), so that no publisher is left unsure whether its update was stored; one whose
    // body has not arrived within the grace period is cut off before anything of it was stored.
    if (this.#inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(this.#inFlight),
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
    await this.#store.close();
    this.metrics.stop();
    this.#log.info("hub closed");
  }
}

/** Creates a hub (not yet listening). Accepts raw input (validated here) or a resolved config. */
export function createHub(config: HubConfigInput | HubConfig): Hub {
  return new HubImpl(isResolved(config) ? config : resolveConfig(config));
}
