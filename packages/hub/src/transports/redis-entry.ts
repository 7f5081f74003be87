/**
 * How an update is kept as an entry of the Redis history stream, and read back. Two fields: `id`,
 * the event id (the log indexes it and refuses a taken one), and `u`, the rest packed in one
 * value: a JSON header `[topics, private (0 or 1), type or null, retry or null]`, a line feed, then
 * the data as it is. Every node reads every entry its tail brings, so an entry is made cheap to
 * write, to store, and to read back: four strings on the wire instead of one per field, and the
 * data never escaped or parsed (the header's JSON has no raw line feed, so the first one ends it).
 * Entries written by earlier versions, one field per property (`id`, `topics` as JSON, `data`,
 * `private`, `type`, `retry`), are still read. No I/O.
 */
import type { LogEntry } from "@ssekit/redis";
import { type StoredUpdate, storedUpdate, type Update } from "../domain/update.js";
import { seqOfEntryId, timeOfSeq } from "./redis-ids.js";

/** The field holding the event id, indexed by the log. */
export const ID_FIELD = "id";
/** The field holding the rest of the update. */
const PACKED_FIELD = "u";

type Header = [topics: string[], isPrivate: 0 | 1, type: string | null, retry: number | null];

/** The entry's fields for `update`. */
export function entryFields(update: Update): Record<string, string> {
  const header: Header = [
    update.topics as string[],
    update.private ? 1 : 0,
    update.type ?? null,
    update.retry ?? null,
  ];
  return { [ID_FIELD]: update.id, [PACKED_FIELD]: `${JSON.stringify(header)}\n${update.data}` };
}

function isHeader(value: unknown): value is Header {
  if (!Array.isArray(value) || value.length !== 4) return false;
  const [topics, isPrivate, type, retry] = value as unknown[];
  return (
    Array.isArray(topics) &&
    topics.length > 0 &&
    topics.every((topic) => typeof topic === "string") &&
    (isPrivate === 0 || isPrivate === 1) &&
    (type === null || typeof type === "string") &&
    (retry === null || Number.isSafeInteger(retry))
  );
}

/** The update an entry holds, or undefined when it holds none (a foreign or damaged entry is skipped). */
function updateOf(entry: LogEntry): Update | undefined {
  const fields = entry.fields;
  const id = fields[ID_FIELD];
  if (id === undefined) return undefined;
  const packed = fields[PACKED_FIELD];
  if (packed !== undefined) {
    const end = packed.indexOf("\n");
    if (end === -1) return undefined;
    let header: unknown;
    try {
      header = JSON.parse(packed.slice(0, end));
    } catch {
      return undefined;
    }
    if (!isHeader(header)) return undefined;
    const [topics, isPrivate, type, retry] = header;
    return {
      id,
      topics,
      data: packed.slice(end + 1),
      private: isPrivate === 1,
      type: type ?? undefined,
      retry: retry ?? undefined,
    };
  }
  // One field per property, as written before the packed form.
  if (fields.topics === undefined) return undefined;
  let topics: unknown;
  try {
    topics = JSON.parse(fields.topics);
  } catch {
    return undefined;
  }
  if (!Array.isArray(topics) || !topics.every((topic) => typeof topic === "string")) return undefined;
  return {
    id,
    topics,
    data: fields.data ?? "",
    private: fields.private === "1",
    type: fields.type,
    retry: fields.retry === undefined ? undefined : Number(fields.retry),
  };
}

/** The stored update an entry holds, positioned by its entry id, or undefined when it holds none. */
export function storedOfEntry(entry: LogEntry): StoredUpdate | undefined {
  const update = updateOf(entry);
  if (update === undefined) return undefined;
  const seq = seqOfEntryId(entry.id);
  return storedUpdate(update, seq, timeOfSeq(seq));
}

/** The stored updates the entries hold, in order, skipping entries that hold none. */
export function storedOfEntries(entries: readonly LogEntry[]): StoredUpdate[] {
  const updates: StoredUpdate[] = [];
  for (const entry of entries) {
    const update = storedOfEntry(entry);
    if (update !== undefined) updates.push(update);
  }
  return updates;
}
