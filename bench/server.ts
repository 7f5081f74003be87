/**
 * Server benchmark: ssekit/server against better-sse and a naive node:http broadcaster (an array
 * of responses, res.write per message), in the same run, each in its own process while raw-socket
 * subscribers (bench/loadgen) run in others. Measures resident memory per idle connection, and
 * delivered events/s with publish-to-receive p50/p99 latency to many subscribers of one channel at
 * increasing publish rates. `--quick`: a few hundred connections for a few seconds.
 */
import { LoadPool, quantile } from "./loadgen/pool.js";
import { Target, type TargetKind } from "./loadgen/target.js";
import type { BenchOptions, Section, Table } from "./report.js";

const KINDS: readonly TargetKind[] = ["ssekit", "better-sse", "naive"];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Step {
  readonly rate: number;
  readonly delivered: number;
  readonly share: number;
  readonly p50: number;
  readonly p99: number;
}

export async function idleMemory(
  kind: TargetKind,
  connections: number,
): Promise<{ open: number; perConnection: number }> {
  const target = await Target.start(kind);
  const pool = await LoadPool.start(Math.max(2, Math.ceil(connections / 5_000)));
  try {
    await sleep(500);
    const before = await target.rss();
    const { open } = await pool.connect("127.0.0.1", target.port, "/", connections);
    await sleep(1_500);
    const after = await target.rss();
    return { open, perConnection: (after - before) / Math.max(1, open) };
  } finally {
    await pool.close();
    await target.stop();
  }
}

export async function fanout(
  kind: TargetKind,
  subscribers: number,
  rates: readonly number[],
  stepMs: number,
): Promise<Step[]> {
  const target = await Target.start(kind);
  const pool = await LoadPool.start(Math.max(2, Math.ceil(subscribers / 5_000)));
  try {
    const { open, firstError } = await pool.connect("127.0.0.1", target.port, "/", subscribers);
    if (open < subscribers)
      throw new Error(`${kind}: only ${open} of ${subscribers} connected (${firstError ?? "?"})`);
    await sleep(300);
    await pool.snapshot();
    const steps: Step[] = [];
    for (const rate of rates) {
      const began = performance.now();
      const published = await target.publish(rate, stepMs);
      await sleep(500);
      const snap = await pool.snapshot();
      const seconds = Math.max(stepMs, performance.now() - began - 500) / 1000;
      const step: Step = {
        rate,
        delivered: snap.events / seconds,
        share: published > 0 ? snap.events / (published * subscribers) : 0,
        p50: quantile(snap.histogram, 0.5),
        p99: quantile(snap.histogram, 0.99),
      };
      steps.push(step);
      console.error(
        `bench server: ${kind} ${rate}/s x ${subscribers} -> ${Math.round(step.delivered)} events/s, ` +
          `${(step.share * 100).toFixed(1)}% delivered, p50 ${step.p50.toFixed(1)} ms, p99 ${step.p99.toFixed(1)} ms`,
      );
      if (step.p99 > 2_000 || step.share < 0.5) break;
    }
    return steps;
  } finally {
    await pool.close();
    await target.stop();
  }
}

/** The best delivered rate whose p99 stayed under 500 ms (one broadcast to 10,000 sockets alone takes tens of ms) and which delivered (nearly) everything. */
function sustained(steps: readonly Step[]): Step | undefined {
  return steps.filter((s) => s.p99 < 500 && s.share > 0.99).sort((a, b) => b.delivered - a.delivered)[0];
}

export async function run(options: BenchOptions): Promise<Section> {
  const idleConnections = options.quick ? 300 : 10_000;
  const subscribers = options.quick ? 300 : 10_000;
  const rates = options.quick ? [20, 100] : [10, 20, 40, 80, 160];
  const stepMs = options.quick ? 1_500 : 3_000;

  // RSS moves by several hundred bytes per connection between identical runs (heap pages, the
  // young generation's size): take the median of rounds that alternate the servers.
  const rounds = options.quick ? 1 : 3;
  const samples = new Map<TargetKind, { open: number; perConnection: number }[]>();
  for (let round = 0; round < rounds; round++) {
    for (const kind of KINDS) {
      const result = await idleMemory(kind, idleConnections);
      samples.set(kind, [...(samples.get(kind) ?? []), result]);
      console.error(
        `bench server: ${kind} idle ${result.open} -> ${(result.perConnection / 1024).toFixed(1)} KiB/connection`,
      );
    }
  }
  const memoryRows: (string | number)[][] = [];
  const memory = new Map<TargetKind, number>();
  const kib = (bytes: number) => Math.round(bytes / 102.4) / 10;
  for (const kind of KINDS) {
    const sorted = [...(samples.get(kind) ?? [])].sort((a, b) => a.perConnection - b.perConnection);
    const median = sorted[Math.floor(sorted.length / 2)];
    if (!median) continue;
    memory.set(kind, median.perConnection);
    const low = sorted[0]?.perConnection ?? 0;
    const high = sorted[sorted.length - 1]?.perConnection ?? 0;
    memoryRows.push([kind, median.open, kib(median.perConnection), `${kib(low)} to ${kib(high)}`]);
  }
  const fanoutRows: (string | number)[][] = [];
  const best = new Map<TargetKind, Step | undefined>();
  for (const kind of KINDS) {
    const steps = await fanout(kind, subscribers, rates, stepMs);
    best.set(kind, sustained(steps));
    for (const s of steps) {
      fanoutRows.push([
        kind,
        s.rate,
        Math.round(s.delivered),
        `${(s.share * 100).toFixed(1)}%`,
        s.p50,
        s.p99,
      ]);
    }
  }
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : "n/a";
  const ours = best.get("ssekit");
  const theirs = best.get("better-sse");
  const tables: Table[] = [
    {
      title: `Memory per idle connection (${idleConnections.toLocaleString("en-US")} connections)`,
      columns: [
        "server",
        "connections",
        "KiB per connection (RSS delta, median)",
        `range over ${rounds} rounds`,
      ],
      rows: memoryRows,
      notes: [
        `ssekit / better-sse: ${ratio(memory.get("ssekit"), memory.get("better-sse"))} (target at most 0.5); ssekit / naive: ${ratio(memory.get("ssekit"), memory.get("naive"))}.`,
        `Median of ${rounds} round(s), each starting every server afresh in turn; RSS after a forced garbage collection, minus RSS before connecting.`,
        "Target 50,000 sessions in one process: not measured here when the hard open-file limit is lower.",
      ],
    },
    {
      title: `Fan-out to ${subscribers.toLocaleString("en-US")} subscribers of one channel`,
      columns: ["server", "publishes/s", "delivered events/s", "delivered", "p50 ms", "p99 ms"],
      rows: fanoutRows,
      notes: [
        `Sustained (p99 < 500 ms, > 99% delivered): ssekit ${Math.round(ours?.delivered ?? 0)}, better-sse ${Math.round(theirs?.delivered ?? 0)}, naive ${Math.round(best.get("naive")?.delivered ?? 0)} events/s; ssekit / better-sse ${ratio(ours?.delivered, theirs?.delivered)} (target at least 3).`,
        "Latency is from the publish call in the server process to the subscriber process reading the event.",
      ],
    },
  ];
  return { name: "server", tables };
}
