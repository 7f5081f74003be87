/** Test helper: runs a parser over chunks and collects everything it reports. */
import { createParser, type ParsedEvent } from "ssekit/protocol";

export interface Collected {
  readonly events: ParsedEvent[];
  readonly retries: number[];
  readonly comments: string[];
}

export function parseChunks(chunks: readonly (string | Uint8Array)[], end = true): Collected {
  const events: ParsedEvent[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const parser = createParser({
    onEvent: (event) => events.push(event),
    onRetry: (ms) => retries.push(ms),
    onComment: (text) => comments.push(text),
  });
  for (const chunk of chunks) parser.feed(chunk);
  if (end) parser.end();
  return { events, retries, comments };
}

export function parseAll(text: string): ParsedEvent[] {
  return parseChunks([text]).events;
}

export const bytes = (...parts: (string | number[])[]): Uint8Array => {
  const out: number[] = [];
  for (const part of parts) out.push(...(typeof part === "string" ? new TextEncoder().encode(part) : part));
  return Uint8Array.from(out);
};
