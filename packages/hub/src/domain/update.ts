/**
 * The update, the hub's unit of publication: its type, its stored form (with a position in the
 * log and a time), and its validation. Validation throws `UpdateError` with a `code` that the HTTP
 * edge maps to a status (routes/publish.ts); nothing here knows about HTTP, forms or storage.
 */
import { randomFillSync } from "node:crypto";
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

const BELOW_MERCURE_PATH = `${MERCURE_PATH}/`;

/** True when `path` is the Mercure path or below it. */
function inside(path: string): boolean {
  return path === MERCURE_PATH || path.startsWith(BELOW_MERCURE_PATH);
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
 * version, then random bits around the variant, from `randomFillSync` as `randomUUID`'s are). Ids
 * chosen by the hub so grow with time: the SQLite store's unique index on ids then takes each new
 * one at its end, where a random v4 id would land on a random page of it (an index page read and
 * written per publish, which costs SQLite more than the rest of the insert). The digits are
 * written into one buffer, read out as one string: no string is built piece by piece.
 */
export function newEventId(now = Date.now()): string {
  if (now !== idMs) {
    let time = now;
    for (let digit = TIME_DIGITS.length - 1; digit >= 0; digit--) {
      ID[TIME_DIGITS[digit] ?? 0] = HEX_DIGITS[time % 16] ?? 0;
      time = Math.floor(time / 16);
    }
    idMs = now;
  }
  if (randomAt + RANDOM_DIGITS.length + 1 > random.length) {
    randomFillSync(random);
    randomAt = 0;
  }
  // One random byte per digit, of which the low 4 bits (2 for the variant) are used.
  for (const at of RANDOM_DIGITS) ID[at] = HEX_DIGITS[(random[randomAt++] ?? 0) & 0xf] ?? 0;
  ID[VARIANT_DIGIT] = HEX_DIGITS[0b1000 | ((random[randomAt++] ?? 0) & 0b11)] ?? 0;
  return ID.toString("latin1");
}

const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");
/** The id being written: `urn:uuid:`, 12 digits of time, version 7, random digits, the variant. */
const ID = Buffer.from("urn:uuid:00000000-0000-7000-8000-000000000000", "latin1");
const TIME_DIGITS = [9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21];
/** The variant's digit: 8, 9, a or b (the bits 10 and two random ones). */
const VARIANT_DIGIT = 28;
const RANDOM_DIGITS = [24, 25, 26, 29, 30, 31, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44];
/** Random bytes, taken in turn and refilled when used up. */
const random = Buffer.alloc(4096);
let randomAt = random.length;
/** The time the digits in `ID` are of. */
let idMs = -1;

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
    topics: topics.slice(),
    data: fields.data ?? "",
    private: fields.private ?? false,
    type,
    retry,
  };
}
