import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { EventSource } from "eventsource";
import { RedisServer } from "../../packages/redis/test/support/redis-server.js";

const SERVER = new URL("./server.ts", import.meta.url).pathname;

/** Starts the example as its own process, as the comment at its top says, and reads its port. */
async function instance(
  redisUrl: string,
  children: ChildProcess[],
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--conditions=ssekit-source", "--import", "tsx", SERVER], {
    env: { ...process.env, PORT: "0", REDIS_URL: redisUrl },
    stdio: ["ignore", "pipe", "inherit"],
  });
  // Stopped by the test's finally even when it never listens, or the other instance fails.
  children.push(child);
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`example exited (${code}): ${output}`)));
  });
  return { child, url };
}

function prices(url: string, init?: { lastEventId: string }) {
  const received: { p: number; id: string }[] = [];
  let wake = () => {};
  const source = new EventSource(
    init ? `${url}/prices?lastEventId=${encodeURIComponent(init.lastEventId)}` : `${url}/prices`,
  );
  source.addEventListener("price", (event) => {
    received.push({ p: (JSON.parse(String(event.data)) as { p: number }).p, id: event.lastEventId });
    wake();
  });
  const opened = new Promise((resolve) => source.addEventListener("open", resolve));
  const until = (count: number) =>
    new Promise<void>((resolve) => {
      wake = () => received.length >= count && resolve();
      wake();
    });
  return { source, received, opened, until };
}

test(
  "Express on two ports through Redis: a broadcast on either reaches both; a client resumes on the other",
  { timeout: 60_000 },
  async () => {
    const redis = await RedisServer.start();
    const children: ChildProcess[] = [];
    const sources: EventSource[] = [];
    try {
      const [one, two] = await Promise.all([instance(redis.url, children), instance(redis.url, children)]);
      const onOne = prices(one.url);
      const onTwo = prices(two.url);
      sources.push(onOne.source, onTwo.source);
      await Promise.all([onOne.opened, onTwo.opened]);
      for (const [url, p] of [
        [two.url, 101],
        [one.url, 102],
      ] as const) {
        const response = await fetch(`${url}/prices?p=${p}`, { method: "POST" });
        assert.equal(response.status, 200, await response.clone().text());
      }
      await Promise.all([onOne.until(2), onTwo.until(2)]);
      assert.deepEqual(onOne.received, onTwo.received);
      assert.deepEqual(
        onOne.received.map((r) => r.p),
        [101, 102],
      );
      const bad = await fetch(`${one.url}/prices?p=cheap`, { method: "POST" });
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /p must be a number \(got "cheap"\)/);
      // Missed one event, resumes on the other instance.
      await fetch(`${one.url}/prices?p=103`, { method: "POST" });
      const resumed = prices(two.url, { lastEventId: onOne.received[0]?.id ?? "" });
      sources.push(resumed.source);
      await resumed.until(2);
      assert.deepEqual(
        resumed.received.map((r) => r.p),
        [102, 103],
      );
    } finally {
      for (const source of sources) source.close();
      await Promise.all(
        children.map(async (child) => {
          if (child.exitCode !== null) return;
          const exited = once(child, "exit");
          child.kill("SIGTERM");
          await exited;
        }),
      );
      await redis.stop();
    }
  },
);
