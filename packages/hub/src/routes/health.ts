/**
 * `/healthz` and `/metrics`. `/healthz` answers 200 `ok` while the transport can append and
 * follow, else 503 with the reason (a load balancer then sends new clients to other nodes; open
 * streams stay up meanwhile). Not responsible for collecting the metrics (metrics.ts, the broker).
 */
import { HttpError, type HubRequest, type HubResponse, sendText } from "../http/http.js";
import type { RouteContext } from "./context.js";

export function isHealthPath(path: string): boolean {
  return path === "/healthz" || path === "/metrics";
}

export async function healthRoute(
  context: RouteContext,
  req: HubRequest,
  res: HubResponse,
  path: string,
): Promise<void> {
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD")
    throw new HttpError(405, `${method} is not allowed on ${path}; use GET`, { allow: "GET, HEAD" });
  if (path === "/healthz") {
    const health = context.broker.health();
    if (health.ok) sendText(res, 200, "ok");
    else sendText(res, 503, `unavailable: ${health.reason}`, { "retry-after": "5" });
    return;
  }
  const body = await context.metrics.registry.metrics();
  res.writeHead(200, { "content-type": context.metrics.registry.contentType });
  res.end(body);
}
