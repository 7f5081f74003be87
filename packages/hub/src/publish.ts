/**
 * Reads a publish request body (`application/x-www-form-urlencoded`: `topic` repeatable, `data`,
 * `private`, `id`, `type`, `retry`) into a validated `Update`. Every field is checked so that no
 * frame a client would read differently can reach a subscriber. Not responsible for authorization
 * or storage.
 */
import { randomUUID } from "node:crypto";
import { HttpError } from "./http.js";
import type { Update } from "./stores/store.js";

// Control characters other than tab; ids and types end up on one SSE line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: this pattern exists to find them
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

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
  const text = body.toString("utf8");
  const form = new URLSearchParams(text);
  const topics = form.getAll("topic");
  if (topics.length === 0) throw new HttpError(400, 'missing "topic": an update needs at least one topic');
  for (const topic of topics) {
    if (topic === "") throw new HttpError(400, '"topic" must not be empty');
  }
  const id = single(form, "id");
  if (id !== undefined) {
    if (id === "") throw new HttpError(400, '"id" must not be empty; omit it to let the hub choose one');
    if (CONTROL.test(id))
      throw new HttpError(400, '"id" must not contain CR, LF or other control characters');
    if (id === "earliest")
      throw new HttpError(400, '"id" must not be "earliest", which subscribers use for the whole history');
    if (id.startsWith("#")) throw new HttpError(400, '"id" must not start with "#"');
  }
  const eventType = single(form, "type");
  if (eventType !== undefined && (eventType === "" || CONTROL.test(eventType))) {
    throw new HttpError(
      400,
      '"type" must be non-empty and must not contain CR, LF or other control characters',
    );
  }
  const retryText = single(form, "retry");
  let retry: number | undefined;
  if (retryText !== undefined) {
    if (!/^[0-9]{1,10}$/.test(retryText))
      throw new HttpError(400, `"retry" must be a non-negative integer (got "${retryText}")`);
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
