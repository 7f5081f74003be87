/**
 * Abuse benchmark: the probes of hostile anonymous clients that once froze the hub or evicted its
 * history, run against `ssekit hub --anonymous` on SQLite (what `npm start` runs) in a child
 * process. For each probe: how long it took, its outcome (what the attacker and the honest clients
 * got), the hub's worst event-loop delay (its `ssekit_hub_event_loop_delay_max_seconds` metric,
 * scraped before and after) and the latency of `/healthz` asked every 20 ms meanwhile, against an
 * idle baseline from the same run. Every loop is bounded in count and time. `--quick`: smaller
 * history and fewer clients.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, type IncomingMessage, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSsekitHub } from "./hub/ssekit-target.js";
import { type Target, treeRssBytes } from "./hub/target.js";
import type { BenchOptions, Section } from "./report.js";

const enc = encodeURIComponent;

interface Stream {
  /** Events (`id:` lines) received so far. */
  readonly events: () => number;
  /** The id of the last event seen in one piece, if any. */
  readonly lastId: () => string | undefined;
  /** Resolves when the stream has received `n` events or ended; rejects after `timeoutMs`. */
  until(n: number, timeoutMs: number): Promise<number>;
  readonly status: Promise<number>;
  close(): void;
}

/** Opens an event stream and counts its events without keeping its bytes. */
function openStream(hub: Target, path: string, headers: Record<string, string> = {}): Stream {
  let count = 0;
  let carry = "";
  let lastId: string | undefined;
  let ended = false;
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  let response: IncomingMessage | undefined;
  const req = request({ host: hub.host, port: hub.port, path, headers, agent: false });
  const status = new Promise<number>((resolve) => {
    req.on("response", (res) => {
      response = res;
      resolve(res.statusCode ?? 0);
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const text = carry + chunk;
        count += text.split("\nid: ").length - 1;
        for (const match of text.matchAll(/\nid: ([^\n]*)\n/g)) lastId = match[1];
        // Shorter than the pattern, so a match is never counted twice.
        carry = text.slice(-4);
        wake();
      });
      res.on("close", () => {
        ended = true;
        wake();
      });
    });
    req.on("error", () => {
      ended = true;
      resolve(0);
      wake();
    });
  });
  req.end();
  return {
    events: () => count,
    lastId: () => lastId,
    status,
    async until(n, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (count < n && !ended) {
        if (Date.now() > deadline)
          throw new Error(`stream ${path.slice(0, 60)}: ${count}/${n} events in time`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 250);
        });
      }
      return count;
    },
    close() {
      response?.destroy();
      req.destroy();
    },
  };
}

/** GET `path`; resolves with status, body length and the body (when `keep`). */
function get(
  hub: Target,
  path: string,
  agent: Agent | false = false,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: hub.host, port: hub.port, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** The hub's longest event-loop delay since the previous scrape, in ms (scraping resets it). */
async function loopDelayMs(hub: Target): Promise<number> {
  const { body } = await get(hub, "/metrics");
  const match = /^ssekit_hub_event_loop_delay_max_seconds (\S+)$/m.exec(body);
  return match?.[1] === undefined ? Number.NaN : Number(match[1]) * 1000;
}

/** Asks `/healthz` every 20 ms until stopped; the worst and the 99th-percentile latency. */
function healthProbe(hub: Target): { stop(): Promise<{ worst: number; p99: number }> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await get(hub, "/healthz", agent).catch(() => undefined);
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      latencies.sort((a, b) => a - b);
      const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0;
      return { worst: latencies.at(-1) ?? 0, p99 };
    },
  };
}

/** Publishes `count` updates with `concurrency` requests in flight. */
async function publishMany(
  hub: Target,
  count: number,
  concurrency: number,
  make: (i: number) => { topic: string; data: string },
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const { topic, data } = make(i);
        await hub.publish(topic, data);
      }
    }),
  );
}

interface Probe {
  readonly name: string;
  /** Runs the probe; returns its outcome in a few words. */
  run(hub: Target): Promise<string>;
}

/** A URI template of 16 expressions without literal prefix or suffix: the costliest kind to match. */
const costlyTemplate = (n: number) =>
  Array.from({ length: 16 }, (_, i) => `{v${n}x${i}}`)
    .join("")
    .concat(`/z${n}`);

function probes(quick: boolean): Probe[] {
  const history = quick ? 20_000 : 100_000;
  return [
    {
      name: "idle (baseline)",
      async run() {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        return "nothing sent";
      },
    },
    {
      name: `3 replays from earliest over ${history.toLocaleString("en-US")} updates, 32 costly templates each`,
      async run(hub) {
        await publishMany(hub, history, 32, (i) => ({ topic: `/noise/${i}`, data: "n" }));
        await hub.publish("/marker", "end");
        const templates = (k: number) =>
          Array.from({ length: 32 }, (_, i) => `topic=${enc(costlyTemplate(k * 100 + i))}`).join("&");
        const started = performance.now();
        const streams = [0, 1, 2].map((k) =>
          openStream(hub, `/.well-known/mercure?topic=/marker&${templates(k)}&lastEventID=earliest`),
        );
        const got = await Promise.all(streams.map((s) => s.until(1, 120_000)));
        for (const s of streams) s.close();
        return `${got.filter((n) => n >= 1).length}/3 got the update after ${((performance.now() - started) / 1000).toFixed(1)} s`;
      },
    },
    {
      name: "100 subscribers with 200 selectors (32 templates) each, then 260 churn cycles of 200 selectors",
      async run(hub) {
        const before = openStream(hub, "/.well-known/mercure?topic=/kept");
        await before.status;
        await hub.publish("/kept", "seen");
        await before.until(1, 10_000);
        before.close();
        // The resuming client saw "seen": it resumes from that id.
        const seenId = before.lastId() ?? "earliest";
        await publishMany(hub, 9, 1, (i) => ({ topic: "/kept", data: `missed ${i}` }));
        const many = Array.from({ length: 100 }, (_, k) => {
          const patterns = Array.from({ length: 32 }, (_, i) => `topic=${enc(`/p${k}/{a}/{b}/${i}`)}`);
          const exact = Array.from({ length: 168 }, (_, i) => `topic=/x${k}/${i}`);
          return openStream(hub, `/.well-known/mercure?${[...patterns, ...exact].join("&")}`);
        });
        const statuses = await Promise.all(many.map((s) => s.status));
        const deadline = Date.now() + 60_000;
        let cycles = 0;
        for (; cycles < 260 && Date.now() < deadline; cycles += 10) {
          const churn = Array.from({ length: 10 }, (_, k) =>
            openStream(
              hub,
              `/.well-known/mercure?${Array.from({ length: 200 }, (_, i) => `topic=/churn${k}/${i}`).join("&")}`,
            ),
          );
          await Promise.all(churn.map((s) => s.status));
          for (const s of churn) s.close();
        }
        for (const s of many) s.close();
        const resumed = openStream(hub, "/.well-known/mercure?topic=/kept", { "last-event-id": seenId });
        const missed = await resumed.until(9, 10_000).catch(() => resumed.events());
        resumed.close();
        return `${statuses.filter((s) => s === 200).length}/100 open, ${cycles} cycles; resumed client got ${missed}/9 missed updates`;
      },
    },
    {
      name: "replay of 1,000 updates of 10 kB to a client that reads",
      async run(hub) {
        const data = "x".repeat(10_000);
        await publishMany(hub, 1_000, 16, () => ({ topic: "/big", data }));
        const stream = openStream(hub, "/.well-known/mercure?topic=/big&lastEventID=earliest");
        const received = await stream.until(1_000, 60_000).catch(() => stream.events());
        stream.close();
        return `${received}/1,000 received on the first connection`;
      },
    },
    {
      name: `5 parallel polls over ${quick ? 30 : 300} updates of 1 MB`,
      async run(hub) {
        const data = "y".repeat(1_000_000);
        await publishMany(hub, quick ? 30 : 300, 4, () => ({ topic: "/huge", data }));
        let peak = treeRssBytes(hub.pids());
        const sampler = setInterval(() => {
          peak = Math.max(peak, treeRssBytes(hub.pids()));
        }, 50);
        // Five pollers, each following lastEventId from the start of history until it has every update.
        const total = quick ? 30 : 300;
        let largest = 0;
        const statuses = new Set<number>();
        const received = await Promise.all(
          Array.from({ length: 5 }, async () => {
            let last = "earliest";
            let got = 0;
            for (let polls = 0; polls < 2_000 && got < total; polls++) {
              const answer = await get(
                hub,
                `/.well-known/mercure?poll=1&timeout=0&topic=/huge&lastEventID=${enc(last)}`,
              );
              statuses.add(answer.status);
              if (answer.status !== 200) break;
              largest = Math.max(largest, Buffer.byteLength(answer.body));
              const body = JSON.parse(answer.body) as { events: unknown[]; lastEventId: string };
              got += body.events.length;
              last = body.lastEventId;
            }
            return got;
          }),
        );
        clearInterval(sampler);
        return `status ${[...statuses].join(",")}, ${received.filter((n) => n === total).length}/5 got all ${total}, largest answer ${(largest / 2 ** 20).toFixed(2)} MiB, hub RSS peak ${Math.round(peak / 2 ** 20)} MiB`;
      },
    },
    {
      name: `${quick ? 300 : 1_000} connections asking for 32 distinct templates each; delivery to an exact subscriber meanwhile`,
      async run(hub) {
        const count = quick ? 300 : 1_000;
        const attackers = Array.from({ length: count }, (_, k) =>
          openStream(
            hub,
            `/.well-known/mercure?${Array.from({ length: 32 }, (_, i) => `topic=${enc(costlyTemplate(10_000 + k * 32 + i))}`).join("&")}`,
          ),
        );
        const statuses = await Promise.all(attackers.map((s) => s.status));
        const victim = openStream(hub, "/.well-known/mercure?topic=/victim");
        await victim.status;
        // 100 updates at 50/s; each carries its send time, compared when it arrives.
        const latencies: number[] = [];
        const req = request({
          host: hub.host,
          port: hub.port,
          path: "/.well-known/mercure?topic=/timed",
          agent: false,
        });
        const timed = new Promise<void>((resolve) => {
          req.on("response", (res) => {
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => {
              for (const m of chunk.matchAll(/data: t=(\d+(?:\.\d+)?)/g))
                latencies.push(performance.timeOrigin + performance.now() - Number(m[1]));
              if (latencies.length >= 100) resolve();
            });
            res.on("close", () => resolve());
          });
          req.on("error", () => resolve());
        });
        req.end();
        await new Promise((resolve) => setTimeout(resolve, 200));
        for (let i = 0; i < 100; i++) {
          void hub.publish("/timed", `t=${performance.timeOrigin + performance.now()}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await Promise.race([timed, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        req.destroy();
        victim.close();
        for (const s of attackers) s.close();
        latencies.sort((a, b) => a - b);
        const p = (q: number) =>
          latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
        return `${statuses.filter((s) => s === 200).length} accepted, ${statuses.filter((s) => s === 429).length} refused 429; ${latencies.length}/100 timed updates, p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms`;
      },
    },
  ];
}

export async function run(options: BenchOptions): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), "ssekit-bench-abuse-"));
  const hub = await startSsekitHub({
    store: `sqlite:${join(dir, "hub.db")}`,
    flags: ["--history-max-events", "200000"],
  });
  const rows: (string | number)[][] = [];
  try {
    for (const probe of probes(options.quick)) {
      console.error(`bench: abuse: ${probe.name}...`);
      await loopDelayMs(hub); // resets the maximum
      const health = healthProbe(hub);
      const started = performance.now();
      const outcome = await probe.run(hub);
      const seconds = (performance.now() - started) / 1000;
      const { worst, p99 } = await health.stop();
      const loop = await loopDelayMs(hub);
      rows.push([probe.name, outcome, seconds, loop, worst, p99]);
    }
  } finally {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    name: "Abuse",
    tables: [
      {
        title: "Hostile anonymous clients against `ssekit hub --anonymous` on SQLite",
        columns: [
          "probe",
          "outcome",
          "seconds (incl. setup)",
          "worst event-loop delay, ms",
          "worst /healthz, ms",
          "p99 /healthz, ms",
        ],
        rows,
        notes: [
          "Each probe runs against the same hub process, in this order; its seconds include publishing the history it needs.",
          "Event-loop delay: the hub's own ssekit_hub_event_loop_delay_max_seconds (sampled every 10 ms), scraped before and after the probe. /healthz: asked every 20 ms from the bench process during the probe.",
          "Targets (issue 11): no probe holds the event loop for more than 50 ms; no published update is evicted; a replay of any size reaches a client that reads; poll answers bounded in bytes.",
        ],
      },
    ],
  };
}
