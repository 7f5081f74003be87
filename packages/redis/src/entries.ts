/**
 * Log entries as the log hands them out, and the parsing of Redis stream replies (RESP2 arrays of
 * `[id, [field, value, ...]]`, read as Buffers) into them. No I/O.
 */

/** Field values as the caller reads them back: strings (UTF-8) or Buffers, per the log's `buffers` option. */
export type FieldValue = string | Buffer;

/** One entry of the log. */
export interface LogEntry<V extends FieldValue = string> {
  /** The stream entry id (`<ms>-<seq>`): the entry's position, increasing in log order. */
  readonly id: string;
  /** The entry's fields; names are strings, values per the log's `buffers` option. */
  readonly fields: Readonly<Record<string, V>>;
}

export type Decode<V extends FieldValue> = (value: Buffer) => V;

export const asString: Decode<string> = (value) => value.toString("utf8");
export const asBuffer: Decode<Buffer> = (value) => value;

function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}

export function toEntry<V extends FieldValue>(raw: unknown, decode: Decode<V>): LogEntry<V> {
  const [id, list] = raw as [Buffer, Buffer[] | null];
  // A prototype-less record, so that a field named like an Object.prototype member is just a field.
  const fields = Object.create(null) as Record<string, V>;
  if (list)
    for (let i = 0; i + 1 < list.length; i += 2) fields[text(list[i])] = decode(list[i + 1] as Buffer);
  return { id: text(id), fields };
}

export function toEntries<V extends FieldValue>(raw: unknown, decode: Decode<V>): LogEntry<V>[] {
  return Array.isArray(raw) ? raw.map((entry) => toEntry(entry, decode)) : [];
}

export function replyText(value: unknown): string {
  return text(value);
}
