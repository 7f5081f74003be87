/**
 * A development token for `ssekit pub` when the user gave no token and no key: a hub started with
 * `--dev` hands loopback clients a one-hour JWT (publish and subscribe to every topic) at
 * `GET /ui/dev-token`, signed with the key it keeps in its data folder. Asked only of a hub on a
 * loopback address, so no other machine is ever asked. Not responsible for using the token.
 */

/** What asking gave: the token, or why there is none (for the error message). */
export type DevTokenResult =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "none"; readonly reason: string };

const LOOPBACK_NAMES = new Set(["localhost", "[::1]"]);

export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_NAMES.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}

/** Asks the hub at `hub` (its Mercure endpoint URL) for a development token. */
export async function fetchDevToken(hub: URL): Promise<DevTokenResult> {
  if (!isLoopbackUrl(hub)) return { kind: "none", reason: `${hub.host} is not this machine` };
  const url = new URL("/ui/dev-token", hub);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    return { kind: "none", reason: `cannot reach ${url.origin} (${cause})` };
  }
  const text = await response.text();
  if (response.status === 404)
    return { kind: "none", reason: `the hub at ${url.origin} is not in --dev mode` };
  if (!response.ok)
    return { kind: "none", reason: `${url.href} answered ${response.status}: ${text.trim()}` };
  try {
    const token = (JSON.parse(text) as { token?: unknown }).token;
    if (typeof token === "string" && token !== "") return { kind: "token", token };
  } catch {
    // reported below
  }
  return { kind: "none", reason: `${url.href} answered something that is not a development token` };
}
