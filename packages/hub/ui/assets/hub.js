// Talking to the hub from a page: the Mercure endpoint, the publisher token (the development
// token the hub hands to loopback clients in --dev mode, or one the user pasted), publishing a
// form-encoded update, and reading the live figures from /metrics. Not responsible for
// subscribing: pages use ssekit/client (or the console's stream.js) for that.

export const MERCURE = "/.well-known/mercure";
const TOKEN_KEY = "ssekit.publisherToken";

/** The subscribe URL for topic selectors, optionally resuming after an event id. */
export function subscribeUrl(topics, lastEventId) {
  const url = new URL(MERCURE, location.origin);
  for (const topic of topics) url.searchParams.append("topic", topic);
  if (lastEventId) url.searchParams.set("lastEventID", lastEventId);
  return url.pathname + url.search;
}

/** A token the user pasted (kept in this browser only), or "" when none. */
export function pastedToken() {
  return localStorage.getItem(TOKEN_KEY) ?? "";
}

export function setPastedToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

let devToken;
/**
 * The development token: `{ token, expiresAt }` from GET /ui/dev-token, which the hub answers
 * only in --dev mode and only to loopback clients; `null` otherwise.
 */
export async function fetchDevToken() {
  if (devToken !== undefined && (devToken === null || devToken.expiresAt > Date.now() + 60_000)) {
    return devToken;
  }
  try {
    const response = await fetch("/ui/dev-token", { cache: "no-store" });
    devToken = response.ok ? await response.json() : null;
  } catch {
    devToken = null;
  }
  return devToken;
}

/** The token to publish with: a pasted one wins over the development one. `{ token, source }` or null. */
export async function publisherToken() {
  const pasted = pastedToken();
  if (pasted) return { token: pasted, source: "pasted" };
  const dev = await fetchDevToken();
  return dev ? { token: dev.token, source: "dev" } : null;
}

export class PublishError extends Error {
  constructor(message, status) {
    super(message);
    this.name = "PublishError";
    this.status = status;
  }
}

/**
 * Publishes one update. `update`: { topics: string[], data, type?, id?, retry?, private? }.
 * Resolves with the id the hub assigned; rejects with a PublishError saying what to do.
 */
export async function publish(update) {
  const auth = await publisherToken();
  if (!auth) {
    throw new PublishError(
      "No publisher token: start the hub with --dev (loopback only) or paste a JWT with a mercure.publish claim.",
      0,
    );
  }
  const form = new URLSearchParams();
  for (const topic of update.topics) form.append("topic", topic);
  form.set("data", update.data ?? "");
  if (update.type) form.set("type", update.type);
  if (update.id) form.set("id", update.id);
  if (update.retry !== undefined && update.retry !== "") form.set("retry", String(update.retry));
  if (update.private) form.set("private", "on");
  const response = await fetch(MERCURE, {
    method: "POST",
    headers: { authorization: `Bearer ${auth.token}` },
    body: form,
  });
  const body = (await response.text()).trim();
  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403 ? " (check the publisher token)" : "";
    throw new PublishError(
      `${response.status} ${response.statusText}: ${body || "rejected"}${hint}`,
      response.status,
    );
  }
  return body;
}

/**
 * Parses the Prometheus text format into a Map from metric name to the sum of its samples
 * (labels are summed over, which is what the console's figures need).
 */
export function parseMetrics(text) {
  const values = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value)) continue;
    values.set(match[1], (values.get(match[1]) ?? 0) + value);
  }
  return values;
}

/** The metric names behind the console's figures; the first one present wins. */
export const FIGURES = {
  connections: ["ssekit_hub_connections", "ssekit_hub_subscribers"],
  subscriptions: ["ssekit_hub_subscriptions"],
  published: ["ssekit_hub_published_total", "ssekit_hub_updates_published_total"],
  delivered: ["ssekit_hub_delivered_total", "ssekit_hub_events_delivered_total"],
};

/** Reads /metrics once: `{ at, connections, subscriptions, published, delivered }` (numbers or null). */
export async function readFigures() {
  const response = await fetch("/metrics", { cache: "no-store" });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const metrics = parseMetrics(await response.text());
  const pick = (names) => {
    for (const name of names) if (metrics.has(name)) return metrics.get(name);
    return null;
  };
  return {
    at: performance.now(),
    connections: pick(FIGURES.connections),
    subscriptions: pick(FIGURES.subscriptions),
    published: pick(FIGURES.published),
    delivered: pick(FIGURES.delivered),
  };
}

/** Formats a data string for display: pretty-printed when it is JSON. */
export function prettyData(data) {
  try {
    const value = JSON.parse(data);
    const compact = JSON.stringify(value);
    return compact.length <= 72
      ? compact.replaceAll('","', '", "').replaceAll(/":(?=\S)/g, '": ')
      : JSON.stringify(value, null, 2);
  } catch {
    return data;
  }
}
