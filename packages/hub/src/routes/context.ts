/**
 * What every route handler gets from the hub: its configuration, the broker, the one
 * authenticator, metrics, the logger and the shutdown signal. One object per hub.
 */
import type { Logger } from "pino";
import type { Broker } from "../broker/broker.js";
import type { SubscriberHost } from "../broker/subscriber.js";
import type { HubConfig } from "../config.js";
import type { HubMetrics } from "../metrics.js";
import type { Authenticator } from "./authenticate.js";

export interface RouteContext {
  readonly config: HubConfig;
  readonly broker: Broker;
  readonly authenticate: Authenticator;
  readonly metrics: HubMetrics;
  readonly log: Logger;
  /** Shared by every subscriber of the hub. */
  readonly subscriberHost: SubscriberHost;
  /** Aborted when the hub starts shutting down. */
  readonly closing: AbortSignal;
}
