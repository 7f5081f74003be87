/**
 * Where `ssekit pub` and `ssekit sub` find the hub and their signing key: `--hub`, else
 * `SSEKIT_HUB_URL`, else the local default; `--key`, else the Mercure key variables. Not
 * responsible for talking to the hub.
 */

import type { Environment } from "./env.js";
import { CliUsageError } from "./errors.js";

export const DEFAULT_HUB_URL = "http://localhost:3000/.well-known/mercure";

export function hubUrl(flag: string | undefined, env: Environment): URL {
  const text = flag ?? env.SSEKIT_HUB_URL ?? DEFAULT_HUB_URL;
  const origin =
    flag !== undefined ? "--hub" : env.SSEKIT_HUB_URL !== undefined ? "SSEKIT_HUB_URL" : "default";
  try {
    const url = new URL(text);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError("not http(s)");
    return url;
  } catch {
    throw new CliUsageError(
      "BAD_VALUE",
      `${origin}: expected the hub's URL such as ${DEFAULT_HUB_URL} (got ${JSON.stringify(text)})`,
    );
  }
}

/** The key to sign a publisher token with: `--key`, else MERCURE_PUBLISHER_JWT_KEY, else MERCURE_JWT_KEY. */
export function publisherKey(flag: string | undefined, env: Environment): string | undefined {
  return flag ?? (env.MERCURE_PUBLISHER_JWT_KEY || undefined) ?? (env.MERCURE_JWT_KEY || undefined);
}

/** The key to sign a subscriber token with: `--key`, else MERCURE_SUBSCRIBER_JWT_KEY, else MERCURE_JWT_KEY. */
export function subscriberKey(flag: string | undefined, env: Environment): string | undefined {
  return flag ?? (env.MERCURE_SUBSCRIBER_JWT_KEY || undefined) ?? (env.MERCURE_JWT_KEY || undefined);
}
