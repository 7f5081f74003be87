/**
 * The subscriptions API (`/.well-known/mercure/subscriptions[/{topic}[/{subscriber}]]`): answers
 * with the active subscriptions of the whole hub (every node's, through the broker) that the
 * requester's token may see. Not responsible for keeping the list (broker.ts, the transport).
 */
import type { Rights } from "../domain/auth.js";
import {
  encodeSegment,
  JSON_LD_CONTEXT,
  SUBSCRIPTIONS_PATH,
  type SubscriptionDocument,
} from "../domain/subscription.js";
import { anyMatch } from "../domain/topics.js";
import { HttpError, type HubRequest, type HubResponse, sendJson } from "../http/http.js";
import type { RouteContext } from "./context.js";

/** What a path of the subscriptions API asks for: every subscription, a topic's, or one. */
interface Selection {
  readonly topic: string | undefined;
  readonly subscriber: string | undefined;
}

/** Reads `path` (which starts with SUBSCRIPTIONS_PATH); throws HttpError 400 or 404 for a bad one. */
function selectionOf(path: string): Selection {
  const rest = path.slice(SUBSCRIPTIONS_PATH.length);
  let parts: string[];
  try {
    parts = rest === "" || rest === "/" ? [] : rest.slice(1).split("/").map(decodeURIComponent);
  } catch {
    throw new HttpError(
      400,
      `the subscriptions path ${JSON.stringify(path)} has a malformed percent escape or encodes bytes that are not UTF-8`,
    );
  }
  if (parts.length > 2)
    throw new HttpError(
      404,
      `no such resource: ${path}; the subscriptions API serves ${SUBSCRIPTIONS_PATH}[/{topic}[/{subscriber}]], each part percent-encoded (a topic's / as %2F)`,
    );
  return { topic: parts[0], subscriber: parts[1] };
}

function selects(selection: Selection, doc: SubscriptionDocument, rights: Rights): boolean {
  if (selection.subscriber !== undefined && doc.subscriber !== selection.subscriber) return false;
  if (selection.topic !== undefined && doc.topic !== selection.topic) return false;
  return anyMatch([doc.id], rights.subscribe);
}

/** Bytes of the list gathered before they are written. */
const WRITE_BYTES = 64 * 1024;

/**
 * GET (and HEAD) on the subscriptions API: a subscriber JWT is required, anonymous or not. The list
 * of a hub with hundreds of thousands of subscriptions is written as it is read, in slices of the
 * event loop's time, waiting for the client to read when its send buffer is full.
 */
export async function subscriptionsRoute(
  context: RouteContext,
  req: HubRequest,
  res: HubResponse,
  url: URL,
): Promise<void> {
  if (!context.config.subscriptions)
    throw new HttpError(404, "the subscriptions API is disabled on this hub");
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD")
    throw new HttpError(405, `${method} is not allowed on the subscriptions API; use GET`, {
      allow: "GET, HEAD, OPTIONS",
    });
  const rights = await context.authenticate.subscriber(req, url.searchParams, { anonymous: false });
  const selection = selectionOf(url.pathname);
  const documents = await context.broker.subscriptions();
  const lastEventId = await context.broker.newestPublicId();
  const slice = context.broker.slicer.slice();
  if (selection.subscriber !== undefined) {
    for (const doc of documents) {
      if (selects(selection, doc, rights)) {
        sendJson(res, 200, { "@context": JSON_LD_CONTEXT, ...doc, lastEventID: lastEventId }, LD_JSON);
        return;
      }
      if (slice.spent()) await slice.next();
    }
    throw new HttpError(404, "no such subscription (or not visible to this token)");
  }
  const { topic } = selection;
  const head = JSON.stringify({
    "@context": JSON_LD_CONTEXT,
    id: topic === undefined ? SUBSCRIPTIONS_PATH : `${SUBSCRIPTIONS_PATH}/${encodeSegment(topic)}`,
    type: "Subscriptions",
    lastEventID: lastEventId,
  });
  res.writeHead(200, { "content-type": `${LD_JSON}; charset=utf-8`, "cache-control": "no-store" });
  if (method === "HEAD") {
    res.end();
    return;
  }
  // The document JSON.stringify would make with `subscriptions` last, written piece by piece.
  const out: { write(chunk: string): boolean } = res;
  let text = `${head.slice(0, -1)},"subscriptions":[`;
  let first = true;
  for (const doc of documents) {
    if (selects(selection, doc, rights)) {
      text += first ? JSON.stringify(doc) : `,${JSON.stringify(doc)}`;
      first = false;
      if (text.length >= WRITE_BYTES) {
        const full = !out.write(text);
        text = "";
        if (full && !(await drained(res))) return;
      }
    }
    if (slice.spent()) {
      await slice.next();
      if (res.destroyed) return;
    }
  }
  res.end(`${text}]}`);
}

const LD_JSON = "application/ld+json";

/** Resolves true once `res` drained, false if it closed first. */
function drained(res: HubResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.on("drain", onDrain);
    res.on("close", onClose);
  });
}
