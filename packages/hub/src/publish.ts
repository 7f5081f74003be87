/**
 * Reads a publish request body (`application/x-www-form-urlencoded`, strictly decoded as UTF-8:
 * `topic` repeatable, `data`, `private`, `id`, `type`, `retry`) into a validated `Update`. Every
 * field is checked so that no frame a client would read differently can reach a subscriber, and
 * topics in the hub's own namespace are refused (403). Not responsible for authorization by token
 * or storage.
 */
import { randomUUID } from "node:crypto";
import { FormEncodingError, parseForm, utf8Text } from "./form.js";
import { HttpError, MERCURE_PATH } from "./http.js";
import type { Update } from "./stores/store.js";
import { EVENT_ID_CONTROL, TOPIC_CONTROL } from "./topics.js";

const RESOLVE_BASE = "https://hub.invalid/";

/**
 * True when `topic` addresses the hub's own namespace (`/.well-known/mercure` and below, where
 * subscription events are published), as a raw string or once resolved as a URI reference, so
 * that no publisher can forge a subscription event (Mercure, "Publication").
 */
export function isReservedTopic(topic: string): boolean {
  const inside = (path: string) => path === MERCURE_PATH || path.startsWith(`${MERCURE_PATH}/`);
  if (inside(topic)) return true;
  // Resolving never decodes letters or hyphens, so a topic without this text cannot resolve into
  // the namespace (control characters, which the parser strips, are refused before this check).
  if (!topic.includes("well-known")) return false;
  try {
    return inside(new URL(topic, RESOLVE_BASE).pathname);
  } catch {
    return false;
  }
}

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

function single(form: URLSearchParams, name: string): string | undefined {
  const values = form.getAll(name);
  if (values.length > 1)
    throw new HttpError(400, `"${name}" must be given at most once (got ${values.length})`);
  return values[0];
}

/** Parses and validates a publish body. */
export function parseUpdate(contentType: string | undefined, body: Buffer): Update {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new HttpError(
      415,
      `publish with Content-Type application/x-www-form-urlencoded (got "${contentType ?? ""}")`,
    );
  }
  checkCharset(contentType ?? "");
  let form: URLSearchParams;
  try {
    form = parseForm(utf8Text(body, "the body"), "form field");
  } catch (error) {
    if (error instanceof FormEncodingError) throw new HttpError(400, error.message);
    throw error;
  }
  const topics = form.getAll("topic");
  if (topics.length === 0) throw new HttpError(400, 'missing "topic": an update needs at least one topic');
  for (const topic of topics) {
    if (topic === "") throw new HttpError(400, '"topic" must not be empty');
    if (TOPIC_CONTROL.test(topic))
      throw new HttpError(400, `"topic" must not contain control characters (got ${JSON.stringify(topic)})`);
    if (isReservedTopic(topic)) {
      throw new HttpError(
        403,
        `"topic" ${JSON.stringify(topic)} is in the hub's reserved namespace ${MERCURE_PATH}, where only the hub publishes (subscription events)`,
      );
    }
  }
  const id = single(form, "id");
  if (id !== undefined) {
    if (id === "") throw new HttpError(400, '"id" must not be empty; omit it to let the hub choose one');
    if (EVENT_ID_CONTROL.test(id))
      throw new HttpError(400, '"id" must not contain CR, LF or other control characters');
    if (id === "earliest")
      throw new HttpError(400, '"id" must not be "earliest", which subscribers use for the whole history');
    if (id.startsWith("#")) throw new HttpError(400, '"id" must not start with "#"');
  }
  const eventType = single(form, "type");
  if (eventType !== undefined && (eventType === "" || EVENT_ID_CONTROL.test(eventType))) {
    throw new HttpError(
      400,
      '"type" must be non-empty and must not contain CR, LF or other control characters',
    );
  }
  const retryText = single(form, "retry");
  let retry: number | undefined;
  if (retryText !== undefined) {
    if (!/^[0-9]{1,10}$/.test(retryText))
      throw new HttpError(
        400,
        `"retry" must be a non-negative integer of milliseconds, at most 10 digits (got "${retryText.slice(0, 40)}")`,
      );
    retry = Number(retryText);
  }
  const privateField = single(form, "private");
  const data = single(form, "data") ?? "";
  return {
    id: id ?? `urn:uuid:${randomUUID()}`,
    topics,
    data,
    // Mercure: the presence of "private" with any value (conventionally "on") marks the update private.
    private: privateField !== undefined,
    type: eventType,
    retry,
  };
}
