/**
 * Hub benchmark: the ssekit hub against Nchan (nginx's pub/sub module) in the same run, each
 * alone on the machine while measured. Fan-out to 10,000 subscribers of one topic and to 1,000
 * subscribers on their own topics, publishing over HTTP at increasing rates: delivered events/s
 * and publish-to-receive latency (p50/p99). Then each server's publish capacity with no
 * subscribers (raw-socket closed loop, capacity.ts), and resident memory per idle subscriber with as many
 * HTTP/1.1 connections as the open-file limit allows; then 100,000 subscribers of one topic on one
 * hub process over HTTP/2 streams (TLS, a few hundred connections), each checked to receive every
 * update in order. `--quick`: a few hundred subscribers (a few thousand HTTP/2 streams) for a few
 * seconds. Targets: 100,000 concurrent subscribers in one process; delivered events/s at least
 * Nchan's at p99 under 100 ms.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfSignedCertificate } from "../packages/hub/test/support/tls-support.js";
import { publishCapacity } from "./hub/capacity.js";
import { startFormServer } from "./hub/form-server.js";
import { countOf, quantile } from "./hub/histogram.js";
import { startNchan } from "./hub/nchan.js";
import { jsonPayload, publishAtRate } from "./hub/publisher.js";
import { startSsekitHub } from "./hub/ssekit-target.js";
import { PER_PROCESS, SubscriberPool } from "./hub/subscribers.js";
import { type Target, treeRssBytes } from "./hub/target.js";
import { H2Pool } from "./loadgen/h2-pool.js";
import { hardFileLimit } from "./loadgen/target.js";
import { type BenchOptions, median, type Section, type Table } from "./report.js";

export interface FanoutScenario {
  readonly title: string;
  readonly subscribers: number;
  readonly topics: number;
  /** Publishes per second, in increasing order. */
  readonly rates: readonly number[];
  readonly stepMs: number;
  /** Each update's data: a JSON object of this many bytes carrying the publish time. Default: the time alone. */
  readonly dataBytes?: number;
}

export interface StepResult {
  readonly rate: number;
  readonly acknowledgedPerSecond: number;
  readonly deliveredPerSecond: number;
  readonly deliveredShare: number;
  readonly p50: number;
  readonly p99: number;
}

export type StartTarget = (maxConnections: number) => Promise<Target | { skipped: string }>;

/** Starts a server, turning a failure to start into a skip note rather than failing the whole run. */
async function startOrSkip(
  start: StartTarget,
  maxConnections: number,
): Promise<Target | { skipped: string }> {
  try {
    return await start(maxConnections);
  } catch (error) {
    return {
      skipped: `did not start: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`,
    };
  }
}

export const P99_TARGET_MS = 100;
/** The baseline row of the publish capacity table. */
const BARE = "bare node:http form server";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function fanout(start: StartTarget, scenario: FanoutScenario): Promise<StepResult[] | string> {
  const target = await startOrSkip(start, scenario.subscribers + 1000);
  if ("skipped" in target) return target.skipped;
  const pool = await SubscriberPool.start(Math.ceil(scenario.subscribers / PER_PROCESS));
  try {
    const topics = Array.from({ length: scenario.topics }, (_, i) => `https://bench.test/topics/${i}`);
    const connected = await pool.connect(
      target.host,
      target.port,
      topics.map((t) => target.subscribePath(t)),
      scenario.subscribers,
    );
    if (connected.open < scenario.subscribers) {
      return `only ${connected.open} of ${scenario.subscribers} subscribers connected (${connected.firstError ?? "?"})`;
    }
    const dataOf = scenario.dataBytes === undefined ? undefined : jsonPayload(scenario.dataBytes);
    // Warm-up at the first rate (JIT, buffers), not measured.
    await publishAtRate(target, topics, scenario.rates[0] ?? 1, Math.min(2_000, scenario.stepMs), 64, dataOf);
    await sleep(500);
    await pool.snapshot();
    const results: StepResult[] = [];
    for (const rate of scenario.rates) {
      const began = performance.now();
      const published = await publishAtRate(target, topics, rate, scenario.stepMs, 64, dataOf);
      await sleep(500); // let deliveries in flight arrive
      const snapshot = await pool.snapshot();
      // Events are those of this step's publishes (the drain lets the last ones arrive), so the
      // rate is over the publishing window; a server that falls behind shows as delivered < 100%.
      const seconds = Math.max(scenario.stepMs, performance.now() - began - 500) / 1000;
      const expected = published.acknowledged * (scenario.subscribers / scenario.topics);
      const step: StepResult = {
        rate,
        acknowledgedPerSecond: published.acknowledged / (scenario.stepMs / 1000),
        deliveredPerSecond: snapshot.events / seconds,
        deliveredShare: expected > 0 ? snapshot.events / expected : 0,
        p50: quantile(snapshot.histogram, 0.5),
        p99: quantile(snapshot.histogram, 0.99),
      };
      results.push(step);
      console.error(
        `bench hub: ${target.name} ${scenario.title} ${rate}/s -> ${Math.round(step.deliveredPerSecond)} events/s, ` +
          `p99 ${step.p99.toFixed(1)} ms (${countOf(snapshot.histogram)} samples)`,
      );
      // Past saturation the next, higher rate tells nothing new and takes long to drain.
      if (step.p99 > 2_000 || step.deliveredShare < 0.5) break;
    }
    return results;
  } finally {
    await pool.close();
    await target.stop();
  }
}

/** Publishes/s a server acknowledges with no subscribers, closed loop over raw sockets, after a warm-up. */
export async function capacity(start: StartTarget, durationMs: number): Promise<number | string> {
  const target = await startOrSkip(start, 2_000);
  if ("skipped" in target) return target.skipped;
  try {
    const topics = Array.from({ length: 1_000 }, (_, i) => `https://bench.test/capacity/${i}`);
    // Warm-up (JIT, buffers, the token cache), not measured: every server's figure is its steady state.
    await publishCapacity(target, topics, Math.min(1_000, durationMs));
    const result = await publishCapacity(target, topics, durationMs);
    if (result.failed > 0) return `${result.failed} publishes failed (${result.firstError ?? "?"})`;
    return result.acknowledgedPerSecond;
  } finally {
    await target.stop();
  }
}

export async function idleMemory(
  start: StartTarget,
  subscribers: number,
): Promise<{ open: number; before: number; after: number } | string> {
  const target = await startOrSkip(start, subscribers + 1000);
  if ("skipped" in target) return target.skipped;
  const pool = await SubscriberPool.start(Math.ceil(subscribers / PER_PROCESS));
  try {
    await sleep(500);
    const before = treeRssBytes(target.pids());
    const topics = Array.from({ length: subscribers }, (_, i) =>
      target.subscribePath(`https://bench.test/idle/${i}`),
    );
    const connected = await pool.connect(target.host, target.port, topics, subscribers);
    await sleep(1_000);
    const after = treeRssBytes(target.pids());
    return { open: connected.open, before, after };
  } finally {
    await pool.close();
    await target.stop();
  }
}

/** Starts a server serving HTTPS with HTTP/2 with this certificate, for `maxStreams` subscribers. */
type StartH2Target = (
  tls: { readonly certPath: string; readonly keyPath: string },
  maxStreams: number,
) => Promise<Target | { skipped: string }>;

interface H2Subscribers {
  readonly name: string;
  readonly requested: number;
  readonly connections: number;
  /** Streams answered 200 with an event stream. */
  readonly open: number;
  readonly published: number;
  readonly acknowledged: number;
  /** Stream, connection and publish errors, and out-of-order streams. */
  readonly errors: number;
  readonly firstError?: string;
  readonly events: number;
  /** Subscribers that received every update, in order. */
  readonly complete: number;
  readonly before: number;
  readonly after: number;
  /** From the first publish until every subscriber had the last update (or the wait gave up). */
  readonly deliveryMs: number;
}

/**
 * `connections` x `streamsPerConnection` subscribers of one topic over HTTP/2 (TLS, self-signed)
 * on one server process (one nginx worker for Nchan); memory before and after they connect, then `updates` publishes (data
 * 1..updates, 100 ms apart) that every subscriber must receive in order.
 */
export async function h2Subscribers(
  start: StartH2Target,
  connections: number,
  streamsPerConnection: number,
  updates: number,
): Promise<H2Subscribers | string> {
  const requested = connections * streamsPerConnection;
  const certificate = selfSignedCertificate();
  try {
    const tls = { certPath: certificate.certPath, keyPath: certificate.keyPath };
    const target = await startOrSkip(() => start(tls, requested + 1_000), 0);
    if ("skipped" in target) return target.skipped;
    const pool = await H2Pool.start(Math.max(2, Math.ceil(requested / 12_500)));
    try {
      const topic = "https://bench.test/h2/one";
      await sleep(500);
      const before = treeRssBytes(target.pids());
      const connected = await pool.connect({
        origin: `https://${target.host}:${target.port}`,
        paths: [target.subscribePath(topic)],
        connections,
        streamsPerConnection,
      });
      await sleep(1_000);
      const after = treeRssBytes(target.pids());
      const began = performance.now();
      let acknowledged = 0;
      let publishErrors = 0;
      let firstError: string | undefined;
      for (let n = 1; n <= updates; n++) {
        try {
          await target.publish(topic, String(n));
          acknowledged++;
        } catch (error) {
          publishErrors++;
          firstError ??= `publish: ${error instanceof Error ? error.message : String(error)}`;
        }
        if (n < updates) await sleep(100);
      }
      const { counts } = await pool.waitForComplete(updates, connected.open, 60_000);
      const result: H2Subscribers = {
        name: target.name,
        requested,
        connections,
        open: connected.open,
        published: updates,
        acknowledged,
        errors: counts.errors + counts.outOfOrder + publishErrors,
        firstError: counts.firstError ?? connected.firstError ?? firstError,
        events: counts.events,
        complete: counts.complete,
        before,
        after,
        deliveryMs: performance.now() - began,
      };
      console.error(
        `bench hub: ${target.name} HTTP/2 ${result.open}/${requested} subscribers on ${connections} connections, ` +
          `${result.errors} errors, ${result.events} events, ${result.complete} complete, ` +
          `${((after - before) / Math.max(1, result.open) / 1024).toFixed(1)} KiB/subscriber` +
          `${result.firstError ? ` (${result.firstError})` : ""}`,
      );
      return result;
    } finally {
      await pool.close();
      await target.stop();
    }
  } finally {
    certificate.dispose();
  }
}

/**
 * Own-topic p99s move by 2x between 5 s steps on shared cores: the scenario runs twice more,
 * alternating the servers, and each rate's ratio is between the medians of the three rounds.
 */
async function ownTopicsRounds(
  scenario: FanoutScenario,
  servers: readonly { readonly name: string; readonly start: StartTarget }[],
  rounds: Map<string, StepResult[][]>,
): Promise<Table> {
  const ROUNDS = 3;
  for (let round = 2; round <= ROUNDS; round++) {
    for (const server of servers) {
      const runs = rounds.get(server.name);
      if (runs === undefined) continue;
      const results = await fanout(server.start, scenario);
      if (typeof results !== "string") runs.push(results);
    }
  }
  const p99s = (name: string, rate: number) =>
    (rounds.get(name) ?? []).flatMap((steps) => steps.filter((s) => s.rate === rate).map((s) => s.p99));
  const [ours, theirs] = servers.map((server) => server.name);
  const rows = scenario.rates.map((rate) => {
    const a = p99s(ours ?? "", rate);
    const b = p99s(theirs ?? "", rate);
    const ma = median(a);
    const mb = median(b);
    return [
      rate,
      a.map((v) => v.toFixed(1)).join("; "),
      b.map((v) => v.toFixed(1)).join("; "),
      Number.isFinite(ma) && mb > 0 ? `${(ma / mb).toFixed(2)}x` : "n/a",
    ];
  });
  return {
    title: `Own topics: p99 ms in ${ROUNDS} rounds, ${scenario.subscribers.toLocaleString("en-US")} subscribers on ${scenario.topics.toLocaleString("en-US")} topics`,
    columns: [
      "publishes/s offered",
      `${ours} p99 ms, each round`,
      `${theirs} p99 ms, each round`,
      "median / median",
    ],
    rows,
    notes: [
      "The first round is the own-topics table above; the others start each server afresh, alternating the servers. Issue 16's target: within 2x of Nchan's p99.",
      "The publisher and the subscriber processes share the two cores with the server under test.",
    ],
  };
}

/** The columns of a fan-out table, for `fanoutRow`'s rows. */
export const FANOUT_COLUMNS = [
  "server",
  "publishes/s offered",
  "publishes/s acked",
  "delivered events/s",
  "delivered",
  "p50 ms",
  "p99 ms",
] as const;

/** One row of a fan-out table: server, offered and acknowledged rate, delivered, share, p50, p99. */
export function fanoutRow(name: string, r: StepResult): (string | number)[] {
  return [
    name,
    r.rate,
    Math.round(r.acknowledgedPerSecond),
    Math.round(r.deliveredPerSecond),
    `${(r.deliveredShare * 100).toFixed(1)}%`,
    Number(r.p50.toFixed(1)),
    Number(r.p99.toFixed(1)),
  ];
}

function best(results: StepResult[] | string): number {
  if (typeof results === "string") return Number.NaN;
  return Math.max(0, ...results.filter((r) => r.p99 < P99_TARGET_MS).map((r) => r.deliveredPerSecond));
}

/**
 * The publish capacity table: the raw-socket closed loop against the hub on the memory and SQLite
 * stores, the bare node:http form server (the ratio's baseline) and Nchan, one after the other.
 */
export async function capacityTable(quick: boolean): Promise<Table> {
  const capacityRows: (string | number)[][] = [];
  const capacityNotes: string[] = [];
  const capacities = new Map<string, number>();
  const sqliteDir = mkdtempSync(join(tmpdir(), "ssekit-bench-hub-"));
  // The same closed loop against the hub on both embedded stores, a bare node:http server reading
  // the same form (the ceiling any Node server has on this machine) and Nchan.
  let sqliteRuns = 0;
  const capacityServers: { name: string; start: StartTarget }[] = [
    { name: "ssekit hub, memory", start: () => startSsekitHub({ name: "ssekit hub, memory" }) },
    {
      name: "ssekit hub, SQLite",
      start: () =>
        startSsekitHub({
          name: "ssekit hub, SQLite",
          store: `sqlite:${join(sqliteDir, `capacity-${++sqliteRuns}.db`)}`,
        }),
    },
    { name: BARE, start: () => startFormServer(BARE) },
    { name: "Nchan", start: (max) => startNchan(max) },
  ];
  // The machine is shared: rounds alternate the servers, and each row is the median of its rounds.
  const rounds = quick ? 1 : 3;
  const samples = new Map<string, number[]>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const server of capacityServers) {
        const result = await capacity(server.start, quick ? 1_000 : 5_000);
        console.error(
          `bench hub: ${server.name} capacity, round ${round + 1}: ${typeof result === "string" ? result : Math.round(result)}`,
        );
        if (typeof result === "string")
          capacityNotes.push(`${server.name}, round ${round + 1} skipped: ${result}`);
        else samples.set(server.name, [...(samples.get(server.name) ?? []), result]);
      }
    }
  } finally {
    rmSync(sqliteDir, { recursive: true, force: true });
  }
  for (const server of capacityServers) {
    const sorted = [...(samples.get(server.name) ?? [])].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    if (median === undefined) continue;
    capacities.set(server.name, median);
    capacityRows.push([
      server.name,
      Math.round(median),
      `${Math.round(sorted[0] ?? median).toLocaleString("en-US")} to ${Math.round(sorted.at(-1) ?? median).toLocaleString("en-US")}`,
    ]);
  }
  const capacityRatio = (a: string, b: string) => {
    const ratio = (capacities.get(a) ?? Number.NaN) / (capacities.get(b) ?? Number.NaN);
    return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "n/a";
  };
  capacityNotes.unshift(
    `ssekit hub / ${BARE}: memory ${capacityRatio("ssekit hub, memory", BARE)}, SQLite ${capacityRatio("ssekit hub, SQLite", BARE)} (target at least 0.8x). ssekit hub (memory) / Nchan: ${capacityRatio("ssekit hub, memory", "Nchan")}.`,
  );
  return {
    title: "Publish capacity (no subscribers)",
    columns: [
      "server",
      "publishes/s acknowledged (median)",
      `range over ${rounds} round${rounds > 1 ? "s" : ""}`,
    ],
    rows: capacityRows,
    notes: [
      `A closed loop over 64 raw keep-alive TCP connections for ${quick ? 1 : 5} s per round (${rounds} round${rounds > 1 ? "s" : ""}, alternating the servers), round-robin over 1,000 topics: each connection sends its next publish when the previous one is answered. The fan-out tables publish through node:http, which costs the generator more per request than either server, so their own-topics figures stop at what the generator can send; this table is the servers' own ceiling.`,
      `Every server gets the same request: a Mercure form POST (\`topic\` and \`data\`) with a publisher JWT. The hub verifies the token (cached after the first), validates, appends to its store (SQLite: committed, group commit per event-loop turn) and answers the event id; the ${BARE} (bench/hub/form-server.ts) only reads the form fields and answers an id, in a node process started the same way.`,
      ...capacityNotes,
    ],
  };
}

export async function run(options: BenchOptions): Promise<Section> {
  const quick = options.quick;
  const limit = hardFileLimit();
  const idleTarget = quick ? 500 : 100_000;
  const idleCount = Math.min(idleTarget, limit - 1_000);
  const scenarios: FanoutScenario[] = quick
    ? [
        { title: "one topic", subscribers: 300, topics: 1, rates: [20, 100], stepMs: 1_500 },
        { title: "own topics", subscribers: 100, topics: 100, rates: [200, 800], stepMs: 1_500 },
      ]
    : [
        {
          title: "one topic",
          subscribers: 10_000,
          topics: 1,
          rates: [1, 2, 5, 10, 15, 20, 40],
          stepMs: 5_000,
        },
        {
          title: "own topics",
          subscribers: 1_000,
          topics: 1_000,
          rates: [1_000, 2_500, 5_000, 10_000, 20_000],
          stepMs: 5_000,
        },
      ];
  const servers: { name: string; start: StartTarget }[] = [
    { name: "ssekit hub", start: () => startSsekitHub() },
    { name: "Nchan", start: (max) => startNchan(max) },
  ];

  const tables: Table[] = [];
  const bests = new Map<string, number[]>();
  const ceilingNotes: string[] = [];
  /** The own-topics steps of each server, one list per round (see ownTopicsRounds). */
  const ownRounds = new Map<string, StepResult[][]>();
  for (const scenario of scenarios) {
    const rows: (string | number)[][] = [];
    const notes: string[] = [];
    for (const server of servers) {
      const results = await fanout(server.start, scenario);
      if (scenario === scenarios.at(-1) && typeof results !== "string") ownRounds.set(server.name, [results]);
      bests.set(server.name, [...(bests.get(server.name) ?? []), best(results)]);
      const top = typeof results === "string" ? undefined : results.at(-1);
      if (top !== undefined && top.rate === scenario.rates.at(-1) && top.p99 < P99_TARGET_MS) {
        ceilingNotes.push(
          `${server.name}, ${scenario.title}: still under ${P99_TARGET_MS} ms at the top rate offered (${top.rate.toLocaleString("en-US")} publishes/s, ${Math.round(top.acknowledgedPerSecond).toLocaleString("en-US")} acknowledged), so its figure is a floor set by the load generator, not its limit.`,
        );
      }
      if (typeof results === "string") {
        notes.push(`${server.name} skipped: ${results}`);
        continue;
      }
      for (const r of results) rows.push(fanoutRow(server.name, r));
    }
    tables.push({
      title: `Fan-out, ${scenario.title}: ${scenario.subscribers.toLocaleString("en-US")} subscribers on ${scenario.topics.toLocaleString("en-US")} topic${scenario.topics > 1 ? "s" : ""}`,
      columns: FANOUT_COLUMNS,
      rows,
      notes: [
        `Each rate runs ${scenario.stepMs / 1000} s; publishes are form POSTs over 64 keep-alive connections; latency is publish-to-receive, measured by the subscriber processes.`,
        "Subscribers are raw TCP connections in separate Node processes on the same machine, so the generator shares the CPU with the server; a burst of one publish to 10,000 subscribers takes the generator itself tens of ms to read, which sets a floor under p99 for both servers.",
        ...notes,
      ],
    });
  }

  const summaryRows = scenarios.map((scenario, i) => {
    const ours = bests.get("ssekit hub")?.[i] ?? Number.NaN;
    const theirs = bests.get("Nchan")?.[i] ?? Number.NaN;
    return [
      scenario.title,
      Math.round(ours),
      Number.isNaN(theirs) ? "skipped" : Math.round(theirs),
      Number.isFinite(ours / theirs) ? `${(ours / theirs).toFixed(2)}x` : "n/a",
    ];
  });
  tables.push({
    title: `Best delivered events/s with p99 under ${P99_TARGET_MS} ms`,
    columns: ["scenario", "ssekit hub", "Nchan", "ssekit / Nchan"],
    rows: summaryRows,
    notes: ["Target: at least Nchan's figure, measured in the same run.", ...ceilingNotes],
  });

  const own = scenarios.at(-1);
  if (!quick && own !== undefined) tables.push(await ownTopicsRounds(own, servers, ownRounds));

  tables.push(await capacityTable(quick));

  const memoryRows: (string | number)[][] = [];
  const memoryNotes: string[] = [];
  for (const server of servers) {
    const result = await idleMemory(server.start, idleCount);
    if (typeof result === "string") {
      memoryNotes.push(`${server.name} skipped: ${result}`);
      continue;
    }
    memoryRows.push([
      server.name,
      result.open,
      Math.round(result.before / 2 ** 20),
      Math.round(result.after / 2 ** 20),
      Number(((result.after - result.before) / Math.max(1, result.open) / 1024).toFixed(1)),
    ]);
  }
  if (idleCount < idleTarget) {
    memoryNotes.push(
      `Over HTTP/1.1 each subscriber is one connection: this machine's hard limit on open files per process is ${limit.toLocaleString("en-US")} (ulimit -Hn), so ${idleCount.toLocaleString("en-US")} were opened here; the target of ${idleTarget.toLocaleString("en-US")} subscribers in one process is met over HTTP/2 in the next table.`,
    );
  }
  const h2Connections = quick ? 10 : 200;
  const h2Streams = quick ? 300 : 500;
  const h2Updates = 5;
  // The hub advertises 1,000 streams per connection; Nchan is given the same (nginx's default is 128).
  const h2Servers: { name: string; start: StartH2Target }[] = [
    { name: "ssekit hub", start: (tls) => startSsekitHub({ tls }) },
    { name: "Nchan", start: (tls, max) => startNchan(max, { tls: { ...tls, maxStreams: 1_000 } }) },
  ];
  const h2Results: H2Subscribers[] = [];
  const h2Notes: string[] = [];
  for (const server of h2Servers) {
    const result = await h2Subscribers(server.start, h2Connections, h2Streams, h2Updates);
    if (typeof result === "string") h2Notes.push(`${server.name} skipped: ${result}`);
    else {
      h2Results.push({ ...result, name: server.name });
      if (result.firstError !== undefined) h2Notes.push(`${server.name}: first error "${result.firstError}"`);
    }
  }
  const ourKib = memoryRows.find((r) => r[0] === "ssekit hub")?.[4];
  const theirKib = memoryRows.find((r) => r[0] === "Nchan")?.[4];
  if (typeof ourKib === "number" && typeof theirKib === "number" && theirKib > 0)
    memoryNotes.unshift(
      `Memory per idle subscriber, ssekit hub / Nchan: ${(ourKib / theirKib).toFixed(2)}x.`,
    );
  tables.push({
    title: "Memory per idle subscriber (each on its own topic)",
    columns: ["server", "subscribers open", "RSS before MiB", "RSS after MiB", "KiB per subscriber"],
    rows: memoryRows,
    notes: [
      "Resident memory of the server's processes (Nchan: nginx master and worker) before and after connecting.",
      ...memoryNotes,
    ],
  });
  const h2Requested = h2Connections * h2Streams;
  const http1PerSubscriber = memoryRows.find((r) => r[0] === "ssekit hub")?.[4];
  const kibPerSubscriber = (r: H2Subscribers) => (r.after - r.before) / Math.max(1, r.open) / 1024;
  const h2Rows = h2Results.map((h2) => [
    h2.name,
    `${h2.open.toLocaleString("en-US")} of ${h2Requested.toLocaleString("en-US")}`,
    h2.connections,
    h2.errors,
    `${h2.acknowledged} of ${h2.published}`,
    `${h2.events.toLocaleString("en-US")} of ${(h2Requested * h2Updates).toLocaleString("en-US")}`,
    h2.complete,
    Math.round(h2.before / 2 ** 20),
    Math.round(h2.after / 2 ** 20),
    Number(kibPerSubscriber(h2).toFixed(1)),
    Math.round(h2.deliveryMs),
  ]);
  const ourH2 = h2Results.find((r) => r.name === "ssekit hub");
  const theirH2 = h2Results.find((r) => r.name !== "ssekit hub");
  if (ourH2 !== undefined && theirH2 !== undefined)
    h2Notes.unshift(
      `Memory per idle subscriber, ssekit hub / Nchan: ${(kibPerSubscriber(ourH2) / kibPerSubscriber(theirH2)).toFixed(2)}x.`,
    );
  tables.push({
    title: `${h2Requested.toLocaleString("en-US")} subscribers on one process (HTTP/2 over TLS)`,
    columns: [
      "server",
      "subscribers open",
      "HTTP/2 connections",
      "errors",
      "updates acknowledged",
      "events received",
      "subscribers with every update in order",
      "RSS before MiB",
      "RSS after MiB",
      "KiB per idle subscriber",
      "ms until all delivered",
    ],
    rows: h2Rows,
    notes: [
      `One server process with a self-signed certificate made with openssl for the run: the hub as \`ssekit hub --tls-cert --tls-key\` (memory store, anonymous subscribers, subscription events on as by default), Nchan as one nginx worker with \`listen ssl http2\` and \`http2_max_concurrent_streams 1000\`. ${h2Requested.toLocaleString("en-US")} subscribers of one topic: ${h2Connections} HTTP/2 connections x ${h2Streams} streams, opened by load-generator processes with node:http2 \`connect()\`. A subscriber counts as open when its stream is answered 200 \`text/event-stream\`.`,
      `Memory: the server's RSS with every subscriber connected and idle, minus before, per subscriber (for the hub it includes the subscription event each connection publishes into the history). ${typeof http1PerSubscriber === "number" ? `The HTTP/1.1 figure of the table above, same run: ${http1PerSubscriber} KiB per subscriber (one connection each, each on its own topic).` : ""}`,
      `Then ${h2Updates} updates (data 1..${h2Updates}, 100 ms apart) are published over HTTPS; a subscriber is complete when it received exactly 1..${h2Updates}, in order. Errors are publish failures, stream resets or refusals, connection errors and subscribers that saw an update out of order. The time runs from the first publish until every subscriber had the last.`,
      `Over HTTP/1.1 each subscriber is a connection and a file descriptor, so one process serves at most its open-file limit (\`ulimit -n\`; the hard limit here is ${limit.toLocaleString("en-US")}); over HTTP/2 the ${h2Requested.toLocaleString("en-US")} streams need ${h2Connections} descriptors.`,
      ...h2Notes,
    ],
  });
  return { name: "hub", tables };
}
