/**
 * The hub's Prometheus metrics, on a Registry of its own so that several hubs in one process (tests,
 * embedding) do not share counters: open connections, subscriptions (selectors), published and
 * delivered updates, and publish latency. Not responsible for serving `/metrics` (routes/health.ts does).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface HubMetrics {
  readonly registry: Registry;
  /** Open event streams. */
  readonly connections: Gauge;
  /** Topic selectors of open event streams. */
  readonly subscriptions: Gauge;
  readonly published: Counter;
  /** Updates written to subscribers (one per subscriber per update). */
  readonly delivered: Counter;
  /** Polls answered. */
  readonly polls: Counter;
  /** Seconds from receiving a publish request to acknowledging it (durable and dispatched). */
  readonly publishLatency: Histogram;
  /** Seconds an append takes to be accepted by the transport (for Redis: its round trip). */
  readonly transportAppend: Histogram;
  /** Milliseconds from an update's acceptance by the transport to its dispatch from the tail. */
  readonly tailLag: Gauge;
  /** Times the transport came back after being unreachable (following resumed). */
  readonly transportReconnects: Counter;
  /** 1 while the transport can append and follow, else 0. */
  readonly transportUp: Gauge;
  /** Stops what the metrics sample in the background (the event-loop delay monitor). */
  stop(): void;
}

export function createMetrics(options: { readonly processMetrics?: boolean } = {}): HubMetrics {
  const registry = new Registry();
  // The longest the event loop was held since the previous scrape: what a request waited at worst.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  new Gauge({
    name: "ssekit_hub_event_loop_delay_max_seconds",
    help: "Longest event-loop delay since the previous scrape (sampled every 10 ms)",
    registers: [registry],
    collect() {
      this.set(loopDelay.count === 0 ? 0 : loopDelay.max / 1e9);
      loopDelay.reset();
    },
  });
  if (options.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: "ssekit_hub_" });
  return {
    registry,
    connections: new Gauge({
      name: "ssekit_hub_connections",
      help: "Open event streams",
      registers: [registry],
    }),
    subscriptions: new Gauge({
      name: "ssekit_hub_subscriptions",
      help: "Topic selectors of open event streams",
      registers: [registry],
    }),
    published: new Counter({
      name: "ssekit_hub_published_total",
      help: "Updates published",
      registers: [registry],
    }),
    delivered: new Counter({
      name: "ssekit_hub_delivered_total",
      help: "Updates written to subscribers",
      registers: [registry],
    }),
    polls: new Counter({ name: "ssekit_hub_polls_total", help: "Polls answered", registers: [registry] }),
    publishLatency: new Histogram({
      name: "ssekit_hub_publish_duration_seconds",
      help: "Time from receiving a publish request to acknowledging it",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    transportAppend: new Histogram({
      name: "ssekit_hub_transport_append_seconds",
      help: "Time for the transport to accept an append (for Redis, its round trip)",
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    tailLag: new Gauge({
      name: "ssekit_hub_tail_lag_milliseconds",
      help: "From the transport accepting the latest dispatched update to its dispatch from the tail",
      registers: [registry],
    }),
    transportReconnects: new Counter({
      name: "ssekit_hub_transport_reconnects_total",
      help: "Times following the transport resumed after it was unreachable",
      registers: [registry],
    }),
    transportUp: new Gauge({
      name: "ssekit_hub_transport_up",
      help: "1 while the transport can append and follow, else 0",
      registers: [registry],
    }),
    stop: () => loopDelay.disable(),
  };
}
