/**
 * Protocol benchmark: parser throughput (MB/s) of ssekit against eventsource-parser on the same
 * bytes in the same run, and encoder speed (events/s).
 *
 * eventsource-parser takes strings, so it is fed as its users feed bytes: through a streaming
 * TextDecoder. Both parsers get the same chunks. Each figure is the median of several timed
 * passes after warm-up, alternating between the parsers; the run is bounded in passes and in time.
 */
import { createParser as referenceParser } from "eventsource-parser";
import { createParser, encode, encodeBytes } from "ssekit/protocol";
import { type BenchOptions, median, type Section } from "./report.js";

const encoder = new TextEncoder();

function manySmallEvents(count: number): Uint8Array {
  let text = "";
  for (let i = 0; i < count; i++)
    text += `event: tick\nid: ${i}\ndata: {"symbol":"ACME","price":${100 + (i % 50)}.25,"seq":${i}}\n\n`;
  return encoder.encode(text);
}

/** Events of `lines` data lines each: JSON-like ASCII text, or text with a non-ASCII letter on every line. */
function largeMultiLine(events: number, lines: number, nonAscii: boolean): Uint8Array {
  let text = "";
  for (let e = 0; e < events; e++) {
    text += `id: ${e}\n`;
    for (let l = 0; l < lines; l++) {
      text += `data:   {"line": ${l}, "text": "lorem ipsum dolor sit amet, consectetur ${nonAscii ? "é" : "e"}lit"},\n`;
    }
    text += "\n";
  }
  return encoder.encode(text);
}

function split(bytes: Uint8Array, size: (i: number) => number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = size(i);
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

type Run = (chunks: readonly Uint8Array[]) => number;

const runOurs: Run = (chunks) => {
  let count = 0;
  const parser = createParser({ onEvent: () => void count++ });
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return count;
};

const runReference: Run = (chunks) => {
  let count = 0;
  const decoder = new TextDecoder();
  const parser = referenceParser({ onEvent: () => void count++ });
  for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }));
  parser.feed(decoder.decode());
  return count;
};

function timed(run: Run, chunks: readonly Uint8Array[], expected: number): number {
  const start = performance.now();
  const count = run(chunks);
  const seconds = (performance.now() - start) / 1000;
  if (count !== expected) throw new Error(`parser returned ${count} events, expected ${expected}`);
  return seconds;
}

/**
 * MB/s of both parsers over `chunks`. Passes alternate between the two so that load from other
 * processes on a shared machine hits both alike; the ratio is the median of the per-pair ratios.
 */
function compare(chunks: readonly Uint8Array[], totalBytes: number, passes: number, budgetMs: number) {
  const expected = runOurs(chunks);
  if (runReference(chunks) !== expected) throw new Error("the two parsers disagree on the event count");
  for (let i = 0; i < 3; i++) {
    runOurs(chunks);
    runReference(chunks);
  }
  const ours: number[] = [];
  const reference: number[] = [];
  const ratios: number[] = [];
  const deadline = performance.now() + budgetMs;
  for (let i = 0; i < passes && (i < 3 || performance.now() < deadline); i++) {
    const a = totalBytes / 1e6 / timed(runOurs, chunks, expected);
    const b = totalBytes / 1e6 / timed(runReference, chunks, expected);
    ours.push(a);
    reference.push(b);
    ratios.push(a / b);
  }
  return { ours: median(ours), reference: median(reference), ratio: median(ratios) };
}

function encoderRate(encodeOne: (i: number) => unknown, count: number, passes: number): number {
  for (let i = 0; i < count; i++) encodeOne(i);
  const rates: number[] = [];
  for (let p = 0; p < passes; p++) {
    const start = performance.now();
    for (let i = 0; i < count; i++) encodeOne(i);
    rates.push(count / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

export async function run(options: BenchOptions): Promise<Section> {
  const scale = options.quick ? 0.1 : 1;
  const passes = options.quick ? 5 : 15;
  const budget = options.quick ? 1500 : 8000;
  const small = manySmallEvents(Math.round(50_000 * scale));
  const large = largeMultiLine(Math.round(400 * scale), 100, false);
  const largeNonAscii = largeMultiLine(Math.round(400 * scale), 100, true);
  const inputs = [
    { name: "many small events, 16 KiB chunks", bytes: small, chunks: split(small, () => 16_384) },
    { name: "large multi-line data, 16 KiB chunks", bytes: large, chunks: split(large, () => 16_384) },
    { name: "small events in 1-7 byte chunks", bytes: small, chunks: split(small, (i) => 1 + ((i * 5) % 7)) },
    {
      name: "large multi-line data, non-ASCII on every line",
      bytes: largeNonAscii,
      chunks: split(largeNonAscii, () => 16_384),
    },
  ];
  const rows: (string | number)[][] = [];
  for (const input of inputs) {
    const result = compare(input.chunks, input.bytes.length, passes, budget);
    rows.push([
      input.name,
      (input.bytes.length / 1e6).toFixed(2),
      result.ours,
      result.reference,
      `${result.ratio.toFixed(2)}x`,
    ]);
  }

  const count = options.quick ? 100_000 : 1_000_000;
  const message = (i: number) => ({ id: String(i), event: "tick", data: `{"price":${i}}` });
  const encodeRows = [
    ["encode() to string", encoderRate((i) => encode(message(i)), count, passes)],
    ["encodeBytes() to Uint8Array", encoderRate((i) => encodeBytes(message(i)), count, passes)],
  ];

  return {
    name: "Protocol",
    tables: [
      {
        title: "Parser throughput, MB/s (median)",
        columns: ["input", "MB", "ssekit", "eventsource-parser", "ratio"],
        rows,
        notes: [
          "Same bytes and chunks for both; eventsource-parser is fed through a streaming TextDecoder, as it needs strings.",
          "Passes alternate between the two parsers; the ratio is the median of the per-pass ratios, which holds up better than the ratio of medians on a busy machine.",
          "Target: ssekit at least 1.5x eventsource-parser on each of the first three inputs.",
          "The last row is decode-bound for both parsers (UTF-8 to UTF-16 dominates): shown for honesty, not a target.",
        ],
      },
      {
        title: "Encoder, small events per second (median)",
        columns: ["call", "events/s"],
        rows: encodeRows,
        notes: [
          'Event: `{ id, event: "tick", data: \'{"price":N}\' }`. Target: at least 1,000,000 events/s.',
        ],
      },
    ],
  };
}
