/**
 * The update, the hub's unit of publication: its type, its stored form (with a position in the
 * log and a time), and its validation. Validation throws `UpdateError` with a `code` that the HTTP
 * edge maps to a status (routes/publish.ts); nothing here knows about HTTP, forms or storage.
 */
import { randomUUID } from "node:crypto";
import { EVENT_ID_CONTROL, TOPIC_CONTROL } from "./topics.js";

/** The path of the Mercure endpoint; it and everything below it is the hub's own topic namespace. */
export const MERCURE_PATH = "/.well-known/mercure";

/** An update as the publisher gave it, after validation. */
export interface Update {
  /** The event id: the publisher's, or `urn:uuid:<uuid>`. */
  readonly id: string;
  /** The update's topics; the first is canonical. Never empty. */
  readonly topics: readonly string[];
  readonly data: string;
  /** Private updates reach only subscribers whose token allows one of the topics. */
  readonly private: boolean;
  /** SSE event type; absent means "message". */
  readonly type?: string | undefined;
  /** SSE `retry` in milliseconds. */
  readonly retry?: number | undefined;
}

/** An update as kept in history: with its position in the log and its publication time. */
export interface StoredUpdate extends Update {
  /** Strictly increasing in log order, never reused, not necessarily contiguous. */
  readonly seq: number;
  /** Milliseconds since the epoch when the transport accepted it. */
  readonly time: number;
}

/**
 * `text`, made one flat string: text built by concatenation (JSON.stringify's output too) is a tree
 * of pieces in V8, which a history holding many updates would keep as such. Reading a character
 * flattens it in place, once; a flat string is returned as is.
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

/**
 * The stored form of `update`. Fields are spelled out rather than spread: every stored update gets
 * one object shape, built without the generic copy a spread of a differently shaped object takes.
 */
export function storedUpdate(update: Update, seq: number, time: number): StoredUpdate {
  return {
    id: update.id,
    topics: update.topics,
    data: flat(update.data),
    private: update.private,
    type: update.type,
    retry: update.retry,
    seq,
    time,
  };
}

/** True when `a` and `b` carry the same update (a publisher's retry), whatever their ids and positions. */
export function sameUpdate(a: Update, b: Update): boolean {
  return (
    a.data === b.data &&
    a.private === b.private &&
    (a.type ?? undefined) === (b.type ?? undefined) &&
    (a.retry ?? undefined) === (b.retry ?? undefined) &&
    a.topics.length === b.topics.length &&
    a.topics.every((topic, i) => topic === b.topics[i])
  );
}

/**
 * Thrown by `Transport.append` when the publisher reuses an event id still in history; `existing`
 * is the update stored under it, so that a retry of the same publish can be told from a different one.
 */
export class DuplicateIdError extends Error {
  readonly code = "DUPLICATE_ID";
  constructor(
    readonly id: string,
    readonly existing?: StoredUpdate,
  ) {
    super(
      `event id "${id}" is already used by a different update in history; omit id to let the hub choose one`,
    );
    this.name = "DuplicateIdError";
  }
}

/**
 * Why an update is not acceptable: `INVALID` (a malformed field) or `RESERVED_TOPIC` (a topic in
 * the hub's own namespace, where only the hub publishes).
 */
export class UpdateError extends Error {
  constructor(
    readonly code: "INVALID" | "RESERVED_TOPIC",
    message: string,
  ) {
    super(message);
    this.name = "UpdateError";
  }
}

const RESOLVE_BASE = "https://hub.invalid/";

/** True when `path` is the Mercure path or below it. */
function inside(path: string): boolean {
  return path === MERCURE_PATH || path.startsWith(`${MERCURE_PATH}/`);
}

/**
 * True when `topic` addresses the hub's own namespace (`/.well-known/mercure` and below, where
 * subscription events are published), as a raw string or once resolved as a URI reference, so
 * that no publisher can forge a subscription event (Mercure, "Publication").
 */
export function isReservedTopic(topic: string): boolean {
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

/** The fields of an update as a publisher sends them, not yet checked. */
export interface UpdateFields {
  readonly topics: readonly string[];
  readonly data?: string | undefined;
  readonly private?: boolean | undefined;
  readonly id?: string | undefined;
  readonly type?: string | undefined;
  /** Text, as it came: checked to be a non-negative integer of milliseconds. */
  readonly retry?: string | undefined;
}

function invalid(message: string): UpdateError {
  return new UpdateError("INVALID", message);
}

/**
 * A fresh event id: `urn:uuid:` and a UUIDv7 (RFC 9562: 48 bits of Unix time in milliseconds, the
 * version, then random bits from `randomUUID`, whose variant bits are already v7's). Ids chosen
 * by the hub so grow with time: the SQLite store's unique index on ids then takes each new one at
 * its end, where a random v4 id would land on a random page of it (an index page read and written
 * per publish, which costs SQLite more than the rest of the insert).
 */
export function newEventId(now = Date.now()): string {
  if (now !== prefixMs) {
    const time = now.toString(16).padStart(12, "0");
    prefix = `urn:uuid:${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
    prefixMs = now;
  }
  // randomUUID(): xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx; from index 15 on: xxx-Vxxx-xxxxxxxxxxxx.
  return `${prefix}${randomUUID().slice(15)}`;
}

/** The time part of the ids of the current millisecond, made once for all of them. */
let prefixMs = -1;
let prefix = "";

/** Validates `fields` into an `Update` (an id is chosen when none is given); throws `UpdateError`. */
export function validateUpdate(fields: UpdateFields): Update {
  const { topics, id, type } = fields;
  if (topics.length === 0) throw invalid('missing "topic": an update needs at least one topic');
  for (const topic of topics) {
    if (topic === "") throw invalid('"topic" must not be empty');
    if (TOPIC_CONTROL.test(topic))
      throw invalid(`"topic" must not contain control characters (got ${JSON.stringify(topic)})`);
    if (isReservedTopic(topic)) {
      throw new UpdateError(
        "RESERVED_TOPIC",
        `"topic" ${JSON.stringify(topic)} is in the hub's reserved namespace ${MERCURE_PATH}, where only the hub publishes (subscription events)`,
      );
    }
  }
  if (id !== undefined) {
    if (id === "") throw invalid('"id" must not be empty; omit it to let the hub choose one');
    if (EVENT_ID_CONTROL.test(id)) throw invalid('"id" must not contain CR, LF or other control characters');
    if (id === "earliest")
      throw invalid('"id" must not be "earliest", which subscribers use for the whole history');
    if (id.startsWith("#")) throw invalid('"id" must not start with "#"');
  }
  if (type !== undefined && (type === "" || EVENT_ID_CONTROL.test(type))) {
    throw invalid('"type" must be non-empty and must not contain CR, LF or other control characters');
  }
  let retry: number | undefined;
  if (fields.retry !== undefined) {
    if (!/^[0-9]{1,10}$/.test(fields.retry))
      throw invalid(
        `"retry" must be a non-negative integer of milliseconds, at most 10 digits (got "${fields.retry.slice(0, 40)}")`,
      );
    retry = Number(fields.retry);
  }
  return {
    id: id ?? newEventId(),
    topics: [...topics],
    data: fields.data ?? "",
    private: fields.private ?? false,
    type,
    retry,
  };
}
