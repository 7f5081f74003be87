/**
 * Which nodes of a Redis hub are alive and which subscriptions each holds, so that the
 * subscriptions API of any node lists the whole hub's and a dead node's subscriptions go away.
 * Keys, under the hub's prefix: `nodes` (a set of node ids), `node:<id>` (expires `nodeTimeoutMs`
 * after the node's last heartbeat), `subscriptions:<id>` (a hash: subscription id -> document),
 * `reaping:<id>` (a lock, so that one node cleans up a dead one). Every third of `nodeTimeoutMs` a
 * node renews its key (registering again, with every subscription it holds, if its key was gone:
 * a Redis that lost its data, or a pause long enough to be taken for dead) and looks for nodes
 * whose key has expired: it removes their subscriptions and has their "inactive" events sent.
 * Not responsible for sending events (the transport's `sendInactive`) or for the hub's history.
 */
import { connectRedis, type Redis, type RedisConnection } from "@ssekit/redis";
import type { SubscriptionDocument } from "../domain/subscription.js";

export interface RegistryOptions {
  readonly redis: RedisConnection;
  readonly prefix: string;
  readonly nodeId: string;
  readonly nodeTimeoutMs: number;
  readonly timeoutMs: number | undefined;
  /** This node's active subscriptions, to register them again. */
  readonly mine: () => readonly SubscriptionDocument[];
  /** Sends the "inactive" event of a subscription of a dead node. */
  readonly sendInactive: (document: SubscriptionDocument) => Promise<void>;
  readonly onConnectionError: (error: Error) => void;
}

export class RedisRegistry {
  readonly #redis: Redis;
  readonly #options: RegistryOptions;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RegistryOptions) {
    this.#options = options;
    this.#redis = connectRedis(options.redis, `ssekit-hub-registry:${options.prefix}`, {
      commandTimeoutMs: options.timeoutMs,
    });
    this.#redis.on("error", options.onConnectionError);
  }

  #key(name: string, node: string): string {
    return `${this.#options.prefix}:${name}:${node}`;
  }

  get #nodes(): string {
    return `${this.#options.prefix}:nodes`;
  }

  /** Registers this node, then beats every third of `nodeTimeoutMs`. */
  async start(): Promise<void> {
    await this.#beat();
    // Closed while the first beat was on its way: no timer left behind.
    if (this.#closed) return;
    const every = Math.max(100, Math.floor(this.#options.nodeTimeoutMs / 3));
    // A failed beat is retried at the next one; the transport reports Redis's health.
    this.#timer = setInterval(() => void this.#beat().catch(() => undefined), every);
    this.#timer.unref();
  }

  /** Records one of this node's subscriptions as active, or removes it. */
  async record(document: SubscriptionDocument): Promise<void> {
    const hash = this.#key("subscriptions", this.#options.nodeId);
    if (document.active) await this.#redis.hset(hash, document.id, JSON.stringify(document));
    else await this.#redis.hdel(hash, document.id);
  }

  /** The active subscriptions of every other node still registered. */
  async elsewhere(): Promise<SubscriptionDocument[]> {
    const nodes = await this.#redis.smembers(this.#nodes);
    const others = nodes.filter((node) => node !== this.#options.nodeId);
    if (others.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const node of others) pipeline.hvals(this.#key("subscriptions", node));
    const documents: SubscriptionDocument[] = [];
    for (const [error, values] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      for (const value of values as string[]) documents.push(JSON.parse(value) as SubscriptionDocument);
    }
    return documents;
  }

  /**
   * Writes this node's registration and its whole list of subscriptions again: at the first beat,
   * when its key was gone, and when Redis is back after an outage (changes made meanwhile were lost).
   */
  async register(): Promise<void> {
    if (this.#closed) return;
    const { nodeId, nodeTimeoutMs } = this.#options;
    const hash = this.#key("subscriptions", nodeId);
    const multi = this.#redis.multi().del(hash);
    for (const document of this.#options.mine()) multi.hset(hash, document.id, JSON.stringify(document));
    await multi.sadd(this.#nodes, nodeId).set(this.#key("node", nodeId), "1", "PX", nodeTimeoutMs).exec();
  }

  async #beat(): Promise<void> {
    if (this.#closed) return;
    const { nodeId, nodeTimeoutMs } = this.#options;
    const redis = this.#redis;
    const nodeKey = this.#key("node", nodeId);
    const renewed = await redis.set(nodeKey, "1", "PX", nodeTimeoutMs, "XX");
    if (renewed === null) await this.register();
    for (const node of await redis.smembers(this.#nodes)) {
      if (node === nodeId || this.#closed) continue;
      if ((await redis.exists(this.#key("node", node))) === 1) continue;
      await this.#reap(node);
    }
  }

  /** Removes a node's subscriptions with their "inactive" events, unless another node does it. */
  async #reap(node: string): Promise<void> {
    const { nodeId, nodeTimeoutMs } = this.#options;
    const redis = this.#redis;
    const lock = await redis.set(this.#key("reaping", node), nodeId, "PX", nodeTimeoutMs, "NX");
    if (lock === null) return;
    const hash = this.#key("subscriptions", node);
    for (const value of await redis.hvals(hash)) {
      await this.#options.sendInactive({ ...(JSON.parse(value) as SubscriptionDocument), active: false });
    }
    await redis.multi().del(hash).srem(this.#nodes, node).exec();
  }

  /**
   * Stops beating; a node that stops on purpose removes its own subscriptions at once (with their
   * events). Resolves once the connection is closed (QUIT answered, or a reconnection pending
   * cancelled); calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    const redis = this.#redis;
    try {
      if (redis.status === "ready") {
        await redis.del(this.#key("node", this.#options.nodeId));
        await this.#reap(this.#options.nodeId);
        await redis.quit();
        return;
      }
    } catch {
      // Redis is away: the other nodes remove them once this node's key expires.
    }
    redis.disconnect();
  }
}
