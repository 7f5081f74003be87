/**
 * `POST /.well-known/mercure`: reads the form body (`application/x-www-form-urlencoded`, strictly
 * UTF-8: `topic` repeatable, `data`, `private`, `id`, `type`, `retry`), validates it into an
 * `Update` (domain/update.ts), checks the publisher's rights and appends it through the broker,
 * answering with the event id once it is durable. Maps the domain's errors to statuses: invalid
 * 400, reserved topic 403, a different update under a taken id 409 (the same one, a retry, is
 * acknowledged again), the transport unavailable 503 with Retry-After.
 */
import { canPublish } from "../domain/auth.js";
import {
  DuplicateIdError,
  type StoredUpdate,
  sameUpdate,
  type Update,
  UpdateError,
  validateUpdate,
} from "../domain/update.js";
import { FormEncodingError, type FormField, formFields, utf8Text } from "../http/form.js";
import { HttpError, type HubRequest, type HubResponse, readBody } from "../http/http.js";
import type { TransportUnavailableError } from "../transports/transport.js";
import type { RouteContext } from "./context.js";

/** Seconds a publisher is told to wait before retrying when the transport is unavailable. */
export const RETRY_AFTER_SECONDS = "2";

/** Refuses a Content-Type charset other than UTF-8: the body is always read as UTF-8. */
function checkCharset(contentType: string): void {
  const match = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType);
  const charset = match?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    throw new HttpError(
      415,
      `publish bodies must be UTF-8 (got charset=${match?.[1] ?? ""}); percent-encode the UTF-8 bytes of each field`,
    );
  }
}

const FORM_TYPE = "application/x-www-form-urlencoded";

/** Refuses a Content-Type other than a form's, or a form's in a charset other than UTF-8. */
function checkContentType(contentType: string | undefined): void {
  // What publishers send, answered without splitting or matching anything.
  if (contentType === FORM_TYPE) return;
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== FORM_TYPE) {
    throw new HttpError(415, `publish with Content-Type ${FORM_TYPE} (got "${contentType ?? ""}")`);
  }
  checkCharset(contentType ?? "");
}

/** The fields of an update that a publisher gives at most once. */
const SINGLE_FIELDS = ["id", "type", "retry", "private", "data"] as const;
type SingleField = (typeof SINGLE_FIELDS)[number];
const isSingle = (name: string): name is SingleField => (SINGLE_FIELDS as readonly string[]).includes(name);

/** Parses and validates a publish body; every error is an HttpError with its status. */
export function parseUpdate(contentType: string | undefined, body: Buffer): Update {
  checkContentType(contentType);
  let fields: FormField[];
  try {
    fields = formFields(utf8Text(body, "the body"), "form field");
  } catch (error) {
    if (error instanceof FormEncodingError) throw new HttpError(400, error.message);
    throw error;
  }
  const topics: string[] = [];
  // Every field present from the start: one object shape, whichever fields are given.
  const given: { [name in SingleField]: string | undefined } = {
    id: undefined,
    type: undefined,
    retry: undefined,
    private: undefined,
    data: undefined,
  };
  for (const { name, value } of fields) {
    if (name === "topic") topics.push(value);
    else if (isSingle(name)) {
      if (given[name] !== undefined) {
        const count = fields.filter((field) => field.name === name).length;
        throw new HttpError(400, `"${name}" must be given at most once (got ${count})`);
      }
      given[name] = value;
    }
  }
  try {
    return validateUpdate({
      topics,
      id: given.id,
      type: given.type,
      retry: given.retry,
      // Mercure: the presence of "private" with any value (conventionally "on") marks the update private.
      private: given.private !== undefined,
      data: given.data,
    });
  } catch (error) {
    if (error instanceof UpdateError)
      throw new HttpError(error.code === "RESERVED_TOPIC" ? 403 : 400, error.message);
    throw error;
  }
}

/** Appends through the broker; a retry of a stored update is acknowledged with the same id. */
export async function appendUpdate(context: RouteContext, update: Update): Promise<StoredUpdate> {
  try {
    return await context.broker.append(update);
  } catch (error) {
    if (!(error instanceof DuplicateIdError)) throw error;
    // A publisher retrying after a lost answer: the same update under the same id is already
    // stored (and was delivered once); acknowledge it again. A different update is a conflict.
    if (error.existing === undefined || !sameUpdate(error.existing, update))
      throw new HttpError(409, error.message);
    return error.existing;
  }
}

/** The answer to a request the transport could not serve now: 503, and when to retry. */
export function unavailableError(error: TransportUnavailableError): HttpError {
  return new HttpError(
    503,
    error.stored === "unknown"
      ? `${error.message}; the update may or may not be stored: retry with the same id, which is safe`
      : `${error.message}; nothing was stored, retry later`,
    { "retry-after": RETRY_AFTER_SECONDS },
  );
}

/**
 * `query`: the request's query, where a token may be given; `common`: the discovery and CORS
 * headers, sent with the answer (an error's are set by the hub's handler).
 */
export async function publishRoute(
  context: RouteContext,
  req: HubRequest,
  res: HubResponse,
  query: URLSearchParams,
  common: Readonly<Record<string, string>>,
): Promise<void> {
  const started = performance.now();
  const rights = await context.authenticate.publisher(req, query);
  const body = await readBody(req, context.config.maxBodyBytes, context.config.bodyTimeoutMs);
  const update = parseUpdate(req.headers["content-type"], body);
  if (!canPublish(update.topics, rights)) {
    throw new HttpError(
      403,
      "the JWT's mercure.publish claim does not allow publishing on every topic of this update",
    );
  }
  const stored = await appendUpdate(context, update);
  const answer = `${stored.id}`;
  // One header object, written at once: headers set before writeHead would be merged into it.
  res.writeHead(200, {
    ...common,
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(answer),
  });
  res.end(answer);
  context.metrics.publishLatency.observe((performance.now() - started) / 1000);
}
