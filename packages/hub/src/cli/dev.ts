/**
 * `ssekit hub --dev`: development defaults (anonymous subscribers, SQLite under ./data, a random
 * signing key when none is configured) and the start-up banner that prints that key once with a
 * ready-to-use publisher JWT, subscriber JWT and curl commands. Not responsible for starting the hub.
 */
import { randomBytes } from "node:crypto";
import type { Layer } from "./layers.js";
import type { ResolvedSettings } from "./resolve.js";
import { stringSetting } from "./resolve.js";
import { isHmacAlgorithm, mintToken } from "./tokens.js";

export const DEV_STORE = "sqlite:./data/ssekit-hub.db";

export interface DevDefaults {
  readonly layer: Layer;
  /** The key generated for this run, when the user configured none. */
  readonly generatedKey?: string;
}

/** The `--dev` layer, given what flags, environment and config file already set. */
export function devDefaults(configured: ResolvedSettings): DevDefaults {
  const layer: Layer = {
    anonymous: { value: true, origin: { kind: "dev" } },
    store: { value: DEV_STORE, origin: { kind: "dev" } },
  };
  const hasPublisherKey = configured.publisherJwtKey !== undefined || configured.jwksUrl !== undefined;
  if (hasPublisherKey) return { layer };
  // 64 bytes: long enough for HS512, the longest key RFC 7518 asks of an HMAC algorithm.
  const generatedKey = randomBytes(64).toString("base64url");
  layer.publisherJwtKey = { value: generatedKey, origin: { kind: "dev" } };
  if (configured.subscriberJwtKey === undefined) {
    layer.subscriberJwtKey = { value: generatedKey, origin: { kind: "dev" } };
  }
  return { layer, generatedKey };
}

/** The banner printed once after a `--dev` hub is listening. */
export async function devBanner(
  url: string,
  settings: ResolvedSettings,
  generatedKey: string | undefined,
): Promise<string> {
  const hubUrl = `${url.replace(/\/$/, "")}/.well-known/mercure`;
  const lines: string[] = [
    "",
    "ssekit hub (development mode): anonymous subscribers allowed",
    `  web console: ${url.replace(/\/$/, "")}/`,
  ];
  if (generatedKey !== undefined) {
    lines.push(`  generated JWT key (HS256, valid for this run only): ${generatedKey}`);
  }
  const publisherKey = stringSetting(settings, "publisherJwtKey");
  const subscriberKey = stringSetting(settings, "subscriberJwtKey");
  const pubAlg = stringSetting(settings, "publisherJwtAlg") ?? "HS256";
  const subAlg = stringSetting(settings, "subscriberJwtAlg") ?? "HS256";
  const day = 24 * 3_600_000;
  if (publisherKey !== undefined && isHmacAlgorithm(pubAlg)) {
    const token = await mintToken({ key: publisherKey, publish: ["*"], alg: pubAlg, ttlMs: day });
    lines.push(
      `  publisher JWT (publish to every topic, 24h): ${token}`,
      "",
      "  publish:",
      `    curl -d 'topic=https://example.com/books/1' -d 'data={"title":"SSE"}' \\`,
      `      -H 'Authorization: Bearer ${token}' ${hubUrl}`,
    );
  }
  if (subscriberKey !== undefined && isHmacAlgorithm(subAlg)) {
    const token = await mintToken({ key: subscriberKey, subscribe: ["*"], alg: subAlg, ttlMs: day });
    lines.push(`  subscriber JWT (every topic, private ones too, 24h): ${token}`);
  }
  lines.push(
    "",
    "  subscribe:",
    `    curl -N '${hubUrl}?topic=${encodeURIComponent("https://example.com/books/{id}")}'`,
    "",
    `  or: SSEKIT_HUB_URL=${hubUrl} npx ssekit sub 'https://example.com/books/{id}'`,
    "",
  );
  return lines.join("\n");
}
