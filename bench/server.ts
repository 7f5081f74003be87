/**
 * Server benchmark: ssekit/server against better-sse and a naive node:http broadcaster (an array
 * of responses, res.write per message), in the same run, each in its own process while raw-socket
 * subscribers (bench/loadgen) run in others. Measures resident memory per idle connection, and
 * delivered events/s with publish-to-receive p50/p99 latency to many subscribers of one channel at
 * increasing publish rates. Then 50,000 sessions in one process over HTTP/2 streams (a few hundred
 * connections, so the open-file limit does not cap them): sessions open, errors, every broadcast
 * received in order, memory per session. Then the same fan-out with the channel on a Redis bus
 * (`createChannel({ bus: redisChannelBus(...) })`, a real redis-server started for it) against the
 * in-process channel, in the same run. Then an app on ssekit/server that broadcasts what it is
 * POSTed (100-byte JSON) against the hub, with the same publisher and subscribers. `--quick`: a few
 * hundred connections (a few thousand HTTP/2 streams) for a few seconds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisServer } from "../packages/redis/test/support/redis-server.js";
import { startPostApp } from "./hub/post-app.js";
import { startSsekitHub } from "./hub/ssekit-target.js";
import {
  FANOUT_COLUMNS,
  type FanoutScenario,
  fanoutRow,
  fanout as hubFanout,
  type StepResult,
} from "./hub.js";
import { H2Pool } from "./loadgen/h2-pool.js";
import { LoadPool, quantile } from "./loadgen/pool.js";
import { hardFileLimit, Target, type TargetKind } from "./loadgen/target.js";
import type { BenchOptions, Section, Table } from "./report.js";

const KINDS: readonly TargetKind[] = ["ssekit", "better-sse", "naive"];
/** The idle-memory table also has ssekit with `detach: true`. */
const IDLE_KINDS: readonly TargetKind[] = ["ssekit", "ssekit-detach", "better-sse", "naive"];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Step {
  readonly rate: number;
  readonly delivered: number;
  readonly share: number;
  readonly p50: number;
  readonly p99: number;
  /** ssekit only: publish call to written to the channel's members in the server process, ms. */
  readonly written?: { readonly p50: number; readonly p99: number };
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
  redisUrl?: string,
): Promise<Step[]> {
  const target = await Target.start(kind, "http1", redisUrl);
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
      const written = await target.written();
      const seconds = Math.max(stepMs, performance.now() - began - 500) / 1000;
      const step: Step = {
        rate,
        delivered: snap.events / seconds,
        share: published > 0 ? snap.events / (published * subscribers) : 0,
        p50: quantile(snap.histogram, 0.5),
        p99: quantile(snap.histogram, 0.99),
        written,
      };
      steps.push(step);
      console.error(
        `bench server: ${kind} ${rate}/s x ${subscribers} -> ${Math.round(step.delivered)} events/s, ` +
          `${(step.share * 100).toFixed(1)}% delivered, p50 ${step.p50.toFixed(1)} ms, p99 ${step.p99.toFixed(1)} ms` +
          (written
            ? `, written in the app p50 ${written.p50.toFixed(1)} ms, p99 ${written.p99.toFixed(1)} ms`
            : ""),
      );
      if (step.p99 > 2_000 || step.share < 0.5) break;
    }
    return steps;
  } finally {
    await pool.close();
    await target.stop();
  }
}

export interface H2Result {
  readonly kind: TargetKind;
  readonly requested: number;
  readonly connections: number;
  /** Streams answered 200 with an event stream. */
  readonly open: number;
  /** Stream and connection errors seen by the load generator, and the first one's message. */
  readonly errors: number;
  readonly firstError?: string;
  readonly events: number;
  /** Streams that got every broadcast, in order. */
  readonly complete: number;
  readonly outOfOrder: number;
  /** Time from the first broadcast until every stream had the last one (or the wait gave up). */
  readonly deliveryMs: number;
  readonly perSession: number;
}

/**
 * Opens `connections` x `streamsPerConnection` event streams over cleartext HTTP/2 to a server in
 * one process, all in one channel, then broadcasts the sequence 1..`broadcasts` and checks that
 * every stream received all of it in order. RSS delta per session is measured before the broadcasts.
 */
export async function h2Sessions(
  kind: TargetKind,
  connections: number,
  streamsPerConnection: number,
  broadcasts: number,
): Promise<H2Result> {
  const requested = connections * streamsPerConnection;
  const target = await Target.start(kind, "h2c");
  const pool = await H2Pool.start(Math.max(2, Math.ceil(requested / 12_500)));
  try {
    await sleep(500);
    const before = await target.rss();
    const connected = await pool.connect({
      origin: `http://127.0.0.1:${target.port}`,
      paths: ["/"],
      connections,
      streamsPerConnection,
    });
    await sleep(1_500);
    const after = await target.rss();
    const began = performance.now();
    await target.sequence(broadcasts, 100);
    const { counts } = await pool.waitForComplete(broadcasts, connected.open, 60_000);
    const deliveryMs = performance.now() - began;
    const result: H2Result = {
      kind,
      requested,
      connections,
      open: connected.open,
      errors: counts.errors,
      firstError: counts.firstError ?? connected.firstError,
      events: counts.events,
      complete: counts.complete,
      outOfOrder: counts.outOfOrder,
      deliveryMs,
      perSession: (after - before) / Math.max(1, connected.open),
    };
    console.error(
      `bench server: ${kind} h2c ${result.open}/${requested} streams on ${connections} connections, ` +
        `${result.errors} errors, ${result.events} events, ${result.complete} complete, ` +
        `${(result.perSession / 1024).toFixed(1)} KiB/session${result.firstError ? ` (${result.firstError})` : ""}`,
    );
    return result;
  } finally {
    await pool.close();
    await target.stop();
  }
}

/** The best delivered rate whose p99 stayed under 500 ms (one broadcast to 10,000 sockets alone takes tens of ms) and which delivered (nearly) everything. */
function sustained(steps: readonly Step[]): Step | undefined {
  return steps.filter((s) => s.p99 < 500 && s.share > 0.99).sort((a, b) => b.delivered - a.delivered)[0];
}

/**
 * The "50,000 sessions in one process" table: every server in turn, `rounds` times, over HTTP/2
 * streams, with the median memory per session and the worst delivery over the rounds.
 */
async function h2Table(quick: boolean): Promise<Table> {
  const connections = quick ? 10 : 100;
  const streamsPerConnection = quick ? 300 : 500;
  const broadcasts = 10;
  const rounds = quick ? 1 : 3;
  const sessions = connections * streamsPerConnection;
  const results = new Map<TargetKind, H2Result[]>();
  const failures: string[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const kind of KINDS) {
      try {
        const result = await h2Sessions(kind, connections, streamsPerConnection, broadcasts);
        results.set(kind, [...(results.get(kind) ?? []), result]);
      } catch (error) {
        failures.push(
          `${kind}, round ${round + 1}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
  const kib = (bytes: number) => Math.round(bytes / 102.4) / 10;
  const rows: (string | number)[][] = [];
  const medians = new Map<TargetKind, number>();
  for (const kind of KINDS) {
    const all = results.get(kind) ?? [];
    if (all.length === 0) continue;
    const byMemory = [...all].sort((a, b) => a.perSession - b.perSession);
    const median = byMemory[Math.floor(byMemory.length / 2)];
    if (median === undefined) continue;
    medians.set(kind, median.perSession);
    const byDelivery = [...all].sort((a, b) => a.deliveryMs - b.deliveryMs);
    const min = (f: (r: H2Result) => number) => Math.min(...all.map(f));
    rows.push([
      kind,
      `${min((r) => r.open).toLocaleString("en-US")} of ${sessions.toLocaleString("en-US")}`,
      all.reduce((n, r) => n + r.errors + r.outOfOrder, 0),
      `${min((r) => r.events).toLocaleString("en-US")} of ${(sessions * broadcasts).toLocaleString("en-US")}`,
      min((r) => r.complete),
      kib(median.perSession),
      `${kib(byMemory[0]?.perSession ?? 0)} to ${kib(byMemory.at(-1)?.perSession ?? 0)}`,
      Math.round(byDelivery[Math.floor(byDelivery.length / 2)]?.deliveryMs ?? 0),
    ]);
    const firstError = all.find((r) => r.firstError !== undefined)?.firstError;
    if (firstError !== undefined) failures.push(`${kind}: first error "${firstError}"`);
  }
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : "n/a";
  return {
    title: `${sessions.toLocaleString("en-US")} sessions in one process (HTTP/2)`,
    columns: [
      "server",
      "sessions open",
      "errors",
      `events received (${broadcasts} broadcasts)`,
      "sessions with every event in order",
      "KiB per session (RSS delta, median)",
      `range over ${rounds} rounds`,
      "ms until all delivered (median)",
    ],
    rows,
    notes: [
      `Each session is one stream of a cleartext HTTP/2 connection (node:http2 \`createServer\`, prior knowledge, Node's default HTTP/2 settings) in one channel of one server process: ${connections} connections x ${streamsPerConnection} streams, opened by load-generator processes with node:http2 \`connect()\`. Rows show the worst round for counts, the sum over rounds for errors.`,
      `A stream counts as open when answered 200 \`text/event-stream\`; errors are stream resets, refused streams, connection errors and streams that saw a number out of order. After opening, the server broadcasts the data 1..${broadcasts}, 100 ms apart; a session is complete when its stream received exactly 1..${broadcasts}, in order. The time runs from the first broadcast until every stream had the last (so it includes the ${(broadcasts - 1) * 100} ms of spacing).`,
      `Memory: RSS after a forced garbage collection with every session open, minus RSS before connecting, per session; median of ${rounds} round(s) alternating the servers. ssekit / better-sse: ${ratio(medians.get("ssekit"), medians.get("better-sse"))}; ssekit / naive: ${ratio(medians.get("ssekit"), medians.get("naive"))}.`,
      `Over HTTP/1.1 every session is a connection and a file descriptor, so one process holds at most its open-file limit (\`ulimit -n\`; the hard limit here is ${hardFileLimit().toLocaleString("en-US")}); HTTP/2 carries hundreds of sessions per connection, so ${connections} descriptors hold them all.`,
      ...failures,
    ],
  };
}

/**
 * The "across instances" table: fan-out of one process's channel on a Redis bus (every broadcast
 * goes to Redis, and is written once Redis has answered the append) against the
 * in-process channel, alternating, at the same publish rates and subscriber count.
 */
export async function busTable(quick: boolean, subscribers: number): Promise<Table> {
  // 5/s is well inside what one process writes (50,000 events/s): what the bus adds when nothing
  // queues; at 100/s (1,000,000 events/s offered) every variant is saturated.
  const rates = [5, 20, 100];
  const stepMs = quick ? 1_500 : 3_000;
  const redis = await RedisServer.start();
  const steps = new Map<TargetKind, Step[]>();
  try {
    for (const kind of ["ssekit", "ssekit-redis"] as const) {
      steps.set(kind, await fanout(kind, subscribers, rates, stepMs, redis.url));
    }
  } finally {
    await redis.stop();
  }
  const rows: (string | number)[][] = [];
  for (const [kind, list] of steps) {
    for (const s of list) {
      rows.push([
        kind === "ssekit" ? "in-process channel" : "channel on a Redis bus",
        s.rate,
        Math.round(s.delivered),
        `${(s.share * 100).toFixed(1)}%`,
        s.p50,
        s.p99,
        s.written ? s.written.p50.toFixed(2) : "n/a",
        s.written ? s.written.p99.toFixed(2) : "n/a",
      ]);
    }
  }
  const at = (kind: TargetKind, rate: number) => steps.get(kind)?.find((s) => s.rate === rate);
  const local = at("ssekit", 100);
  const shared = at("ssekit-redis", 100);
  const ratio =
    local && shared && local.delivered > 0 ? (shared.delivered / local.delivered).toFixed(2) : "n/a";
  const added = local && shared ? (shared.p50 - local.p50).toFixed(1) : "n/a";
  const addedInApp =
    local?.written && shared?.written ? (shared.written.p50 - local.written.p50).toFixed(2) : "n/a";
  const addedAt = (rate: number) => {
    const a = at("ssekit", rate);
    const b = at("ssekit-redis", rate);
    if (a === undefined || b === undefined) return `${rate}/s n/a`;
    const inApp =
      a.written && b.written ? `, in the app ${(b.written.p50 - a.written.p50).toFixed(2)} ms` : "";
    return `${rate}/s ${(b.p50 - a.p50).toFixed(1)} ms${inApp}`;
  };
  return {
    title: `Across instances: a channel on a Redis bus vs in-process, ${subscribers.toLocaleString("en-US")} subscribers`,
    columns: [
      "channel",
      "publishes/s",
      "delivered events/s",
      "delivered",
      "p50 ms",
      "p99 ms",
      "written in the app p50 ms",
      "p99 ms",
    ],
    rows,
    notes: [
      `At 100 broadcasts/s: Redis bus / in-process delivered events/s ${ratio} (target at least 0.7), added p50 ${added} ms (target at most 2 ms); in the app, from the broadcast call to the event written to the channel's members, the bus adds p50 ${addedInApp} ms. Added p50 at each rate, measured by the subscribers: ${rates.map(addedAt).join("; ")}.`,
      "p50 and p99 are measured by the subscriber processes, which share the machine's cores with the app and redis-server: once the subscribers cannot keep up, their queues set these figures. The last two columns are measured inside the app (a member session of the channel read in-process), apart from sockets and subscribers: what the bus itself adds.",
      "One app process with its subscribers; the bus variant appends each broadcast to a Redis stream (redis-server on 127.0.0.1, no persistence) and writes it to its subscribers once Redis has answered the append (other instances write it when their XREAD BLOCK tail reads it). Latency is from the broadcast call to the subscriber process reading the event.",
    ],
  };
}

/** The bytes of each update's data in the publish-by-request scenario. */
const POST_DATA_BYTES = 100;

/**
 * The "published by HTTP POST" table: an app on ssekit/server (bench/hub/post-app.ts: node:http,
 * `createChannel`, a POST handler that reads a JSON body and broadcasts it) and the hub
 * (`ssekit hub` on SQLite, POST /.well-known/mercure with the same JSON as its `data` field), one
 * after the other, each with the same subscriber processes and the same publisher (the hub
 * section's fan-out, bench/hub.ts), at increasing publish rates.
 */
export async function postTable(quick: boolean): Promise<Table> {
  const subscribers = quick ? 300 : 10_000;
  const scenario: FanoutScenario = {
    title: "published by POST",
    subscribers,
    topics: 1,
    rates: quick ? [20, 100] : [5, 10, 20, 30, 40, 60],
    stepMs: quick ? 1_500 : 4_000,
    dataBytes: POST_DATA_BYTES,
  };
  const dir = mkdtempSync(join(tmpdir(), "ssekit-bench-server-post-"));
  const APP = "ssekit/server app";
  const HUB = "ssekit hub, SQLite";
  const results = new Map<string, StepResult[]>();
  const notes: string[] = [];
  try {
    for (const [name, start] of [
      [APP, () => startPostApp(APP)],
      [HUB, () => startSsekitHub({ name: HUB, store: `sqlite:${join(dir, "hub.db")}` })],
    ] as const) {
      const steps = await hubFanout(start, scenario);
      if (typeof steps === "string") notes.push(`${name} skipped: ${steps}`);
      else results.set(name, steps);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = [...results].flatMap(([name, steps]) => steps.map((step) => fanoutRow(name, step)));
  // What each one delivers at most (every update to every subscriber, however late), and its
  // latency at the lowest rate, where neither is saturated.
  const peakOf = (name: string) =>
    (results.get(name) ?? [])
      .filter((s) => s.deliveredShare > 0.99)
      .sort((a, b) => b.deliveredPerSecond - a.deliveredPerSecond)[0];
  const app = peakOf(APP);
  const hub = peakOf(HUB);
  const ratio =
    app !== undefined && hub !== undefined && hub.deliveredPerSecond > 0
      ? `${(app.deliveredPerSecond / hub.deliveredPerSecond).toFixed(2)}x`
      : "n/a";
  const describe = (step: StepResult | undefined) =>
    step === undefined
      ? "none"
      : `${Math.round(step.deliveredPerSecond).toLocaleString("en-US")} events/s (at ${step.rate} publishes/s, p99 ${step.p99.toFixed(0)} ms)`;
  const lowest = scenario.rates[0] ?? 0;
  const p99At = (name: string) => results.get(name)?.find((s) => s.rate === lowest)?.p99;
  const appP99 = p99At(APP);
  const hubP99 = p99At(HUB);
  return {
    title: `Published by HTTP POST: ${subscribers.toLocaleString("en-US")} subscribers, ${POST_DATA_BYTES}-byte JSON updates`,
    columns: FANOUT_COLUMNS,
    rows,
    notes: [
      `Most delivered (> 99% of updates to every subscriber): ${APP} ${describe(app)}, ${HUB} ${describe(hub)}; ${APP} / hub: ${ratio} (issue 16 target at least 0.9x). p99 at ${lowest} publishes/s: ${APP} ${appP99?.toFixed(0) ?? "n/a"} ms, hub ${hubP99?.toFixed(0) ?? "n/a"} ms.`,
      "A rate stops the series once p99 passes 2 s or less than half is delivered.",
      `Every update is published by an HTTP POST from the bench process (node:http, 64 keep-alive connections) and is a ${POST_DATA_BYTES}-byte JSON object carrying its publish time: to the app as its JSON body (\`POST /publish\`: read, \`JSON.parse\`d, \`channel.broadcast({ data })\`, 204), to the hub as the \`data\` field of a Mercure form with a publisher JWT. Subscribers are raw TCP connections in separate processes (bench/hub/subscribers.ts), as in the hub section; latency is publish-to-receive. Each rate runs ${scenario.stepMs / 1000} s.`,
      "The fan-out table above broadcasts from a timer inside the server process (several 17-byte events per tick); here each update arrives in its own request, as in an app whose backend POSTs events to it.",
      ...notes,
    ],
  };
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
    for (const kind of IDLE_KINDS) {
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
  for (const kind of IDLE_KINDS) {
    const sorted = [...(samples.get(kind) ?? [])].sort((a, b) => a.perConnection - b.perConnection);
    const median = sorted[Math.floor(sorted.length / 2)];
    if (!median) continue;
    memory.set(kind, median.perConnection);
    const low = sorted[0]?.perConnection ?? 0;
    const high = sorted[sorted.length - 1]?.perConnection ?? 0;
    memoryRows.push([kind, median.open, kib(median.perConnection), `${kib(low)} to ${kib(high)}`]);
  }
  const h2 = await h2Table(options.quick);
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
        `ssekit / better-sse: ${ratio(memory.get("ssekit"), memory.get("better-sse"))} (target at most 0.5); ssekit / naive: ${ratio(memory.get("ssekit"), memory.get("naive"))}; with \`detach: true\` (ssekit-detach, see the README's "Memory per connection"): ${ratio(memory.get("ssekit-detach"), memory.get("naive"))} of naive.`,
        `Median of ${rounds} round(s), each starting every server afresh in turn; RSS after a forced garbage collection, minus RSS before connecting.`,
        "Each connection is a file descriptor in the server process; 50,000 sessions in one process are measured over HTTP/2 below.",
      ],
    },
    h2,
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
  tables.push(await busTable(options.quick, subscribers));
  tables.push(await postTable(options.quick));
  return { name: "server", tables };
}
