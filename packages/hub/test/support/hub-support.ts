// Shared helpers for the hub core's tests: start a hub on 127.0.0.1:0, mint tokens with jose,
// publish with fetch, and read event streams with the `eventsource` package.
import { randomUUID } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import { EventSource } from "eventsource";
import { type JWTPayload, SignJWT } from "jose";
import { createHub, type Hub, type HubConfigInput } from "../../src/index.js";

/**
 * When set (redis-protocol.test.ts sets it), `startHub` without a store of its own starts a
 * two-node hub on this Redis instead: two hubs sharing one key prefix, behind a round-robin proxy
 * that sends each request to the other node than the previous one, so that a test's publishes and
 * subscriptions land on different nodes.
 */
export const TWO_NODE_REDIS_ENV = "SSEKIT_HUB_TEST_TWO_NODE_REDIS";

export const SECRET = "test-secret-that-is-long-enough-for-hs256!";
export const secretKey = new TextEncoder().encode(SECRET);

export interface Started {
  readonly hub: Hub;
  readonly url: string;
  readonly endpoint: string;
}

export async function startHub(input: HubConfigInput = {}): Promise<Started> {
  const redis = process.env[TWO_NODE_REDIS_ENV];
  const ownStore =
    input.store !== undefined && !(typeof input.store === "object" && input.store.kind === "memory");
  if (redis !== undefined && !ownStore && input.transport === undefined) return startTwoNodes(input, redis);
  return startOne(input);
}

async function startOne(input: HubConfigInput): Promise<Started> {
  const hub = createHub({
    publisherKey: { alg: "HS256", secret: SECRET },
    store: { kind: "memory" },
    logger: "silent",
    ui: false,
    heartbeatMs: 0,
    ...input,
  });
  const { url } = await hub.listen(0, "127.0.0.1");
  return { hub, url, endpoint: `${url}/.well-known/mercure` };
}

/** Two hubs on one Redis behind a round-robin proxy; `hub` is the first node, closing closes both. */
async function startTwoNodes(input: HubConfigInput, redisUrl: string): Promise<Started> {
  const store = `${redisUrl}?key=${encodeURIComponent(`test-${randomUUID()}`)}`;
  const nodes = [await startOne({ ...input, store }), await startOne({ ...input, store })];
  const ports = nodes.map((node) => Number(new URL(node.url).port));
  let next = 0;
  const proxy: Server = createServer((req, res) => {
    const port = ports[next++ % ports.length];
    const forward = request(
      { host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        // No flushHeaders(): it writes the head as UTF-8, which would re-encode the UTF-8 bytes of
        // a non-ASCII Last-Event-ID; the head goes out (as bytes) with the first piece of the body.
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    res.on("close", () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const first = nodes[0] as Started;
  const hub: Hub = Object.create(first.hub, {
    close: {
      value: async (options?: { retryMs?: number }) => {
        proxy.closeAllConnections();
        await Promise.all([
          new Promise((resolve) => proxy.close(resolve)),
          ...nodes.map((node) => node.hub.close(options)),
        ]);
      },
    },
  });
  return { hub, url, endpoint: `${url}/.well-known/mercure` };
}

export function token(
  mercure: { publish?: string[]; subscribe?: string[]; payload?: unknown },
  options: { expiresIn?: string | number; key?: Uint8Array; claims?: JWTPayload } = {},
): Promise<string> {
  const jwt = new SignJWT({ mercure, ...options.claims }).setProtectedHeader({ alg: "HS256" }).setIssuedAt();
  if (options.expiresIn !== undefined) jwt.setExpirationTime(options.expiresIn);
  return jwt.sign(options.key ?? secretKey);
}

export const publisherToken = () => token({ publish: ["*"] });

export async function publish(
  endpoint: string,
  fields: Record<string, string | string[]>,
  jwt?: string,
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
  }
  return fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Bearer ${jwt ?? (await publisherToken())}`,
    },
    body,
  });
}

/** Publishes and returns the id, failing the test unless the hub answered 200. */
export async function publishOk(
  endpoint: string,
  fields: Record<string, string | string[]>,
  jwt?: string,
): Promise<string> {
  const response = await publish(endpoint, fields, jwt);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`publish answered ${response.status}: ${text}`);
  return text;
}

export interface Received {
  readonly type: string;
  readonly data: string;
  readonly id: string;
}

/** An `eventsource` subscriber collecting events, with a way to wait for the n-th one. */
export class Collector {
  readonly events: Received[] = [];
  readonly source: EventSource;
  /** Connections opened so far (reconnections included). */
  opens = 0;
  #waiters: { done: (events: readonly Received[]) => boolean; resolve: () => void }[] = [];

  constructor(
    url: string,
    options: { jwt?: string; types?: string[]; lastEventId?: string; fetch?: typeof fetch } = {},
  ) {
    const headers: Record<string, string> = {};
    if (options.jwt !== undefined) headers.authorization = `Bearer ${options.jwt}`;
    if (options.lastEventId !== undefined) headers["last-event-id"] = options.lastEventId;
    const base = options.fetch ?? fetch;
    this.source = new EventSource(url, {
      fetch: (input, init) => base(input, { ...init, headers: { ...init?.headers, ...headers } }),
    });
    const onEvent = (event: MessageEvent) => {
      this.events.push({ type: event.type, data: String(event.data), id: event.lastEventId });
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.done(this.events)) return true;
        w.resolve();
        return false;
      });
    };
    this.source.addEventListener("message", onEvent);
    this.source.addEventListener("open", () => {
      this.opens++;
    });
    for (const type of options.types ?? []) this.source.addEventListener(type, onEvent);
  }

  async opened(): Promise<void> {
    if (this.source.readyState === EventSource.OPEN) return;
    await new Promise<void>((resolve, reject) => {
      this.source.addEventListener("open", () => resolve(), { once: true });
      this.source.addEventListener(
        "error",
        (event) =>
          reject(new Error(`subscription failed: ${(event as { message?: string }).message ?? "error"}`)),
        { once: true },
      );
    });
  }

  /** Resolves once `n` events have arrived. */
  waitFor(n: number): Promise<void> {
    return this.until((events) => events.length >= n);
  }

  /** Resolves once `done(events)` holds, checked on every event. */
  until(done: (events: readonly Received[]) => boolean): Promise<void> {
    if (done(this.events)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ done, resolve }));
  }

  close(): void {
    this.source.close();
  }
}

/**
 * Reads a raw fetch event stream until `done(text)` says stop; returns the text and the response.
 * `onHeaders` runs once the response's headers are in, before its body is read.
 */
export async function readStream(
  url: string,
  headers: Record<string, string>,
  done: (text: string) => boolean,
  onHeaders?: () => void,
): Promise<{ response: Response; text: string }> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  onHeaders?.();
  let text = "";
  if (response.body === null || response.status !== 200) return { response, text: await response.text() };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  try {
    while (!done(text)) {
      const { value, done: end } = await reader.read();
      if (end) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    controller.abort();
  }
  return { response, text };
}
