/**
 * Durability under a crash: a hub on SQLite is killed with SIGKILL while 20 publishes are in
 * flight; a new hub on the same file must replay every acknowledged update, each once, and keep
 * the order of updates whose publish was acknowledged before the next one was sent.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createParser } from "eventsource-parser";
import { SignJWT } from "jose";
import { type HubProcess, startHub } from "../support/cli-process.js";

const KEY = "crash-test-secret-crash-test-secret";
const TOTAL = 10_000;
const IN_FLIGHT = 20;
const dir = mkdtempSync(join(tmpdir(), "ssekit-crash-"));
const hubs: HubProcess[] = [];
after(async () => {
  for (const hub of hubs) await hub.kill();
  rmSync(dir, { recursive: true, force: true });
});

async function token(): Promise<string> {
  return new SignJWT({ mercure: { publish: ["*"], subscribe: ["*"] } })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(KEY));
}

function publish(agent: Agent, endpoint: string, jwt: string, data: string): Promise<string> {
  const body = new URLSearchParams({ topic: "https://example.test/crash", data }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      endpoint,
      {
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${jwt}`,
          "content-type": "application/x-www-form-urlencoded",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          res.statusCode === 200 ? resolve(text.trim()) : reject(new Error(`${res.statusCode}: ${text}`)),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

interface Acknowledged {
  readonly n: number;
  /** Position in the order of acknowledgements. */
  readonly ackSeq: number;
  /** How many publishes had been acknowledged when this one was sent. */
  readonly sentAfter: number;
}

test(
  "every acknowledged publish survives SIGKILL and is replayed from earliest, in order",
  { timeout: 90_000 },
  async () => {
    const db = join(dir, "hub.db");
    const args = [
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--store",
      `sqlite:${db}`,
      "--jwt-key",
      KEY,
      "--log-level",
      "warn",
    ];
    const first = await startHub(args);
    hubs.push(first);
    const jwt = await token();
    const killAt = 1_000 + Math.floor(Math.random() * 8_000);
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const acknowledged = new Map<number, Acknowledged>();
    let next = 0;
    let killed = false;
    const sentAfter: number[] = [];

    const worker = async (): Promise<void> => {
      while (!killed && next < TOTAL) {
        const n = next++;
        sentAfter[n] = acknowledged.size;
        try {
          await publish(agent, first.mercure, jwt, String(n));
        } catch {
          if (killed) return;
          throw new Error(`publish ${n} failed before the kill`);
        }
        if (killed) return; // an answer that arrives after the kill is not counted as acknowledged
        acknowledged.set(n, { n, ackSeq: acknowledged.size, sentAfter: sentAfter[n] ?? 0 });
        if (acknowledged.size === killAt) {
          killed = true;
          first.child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    agent.destroy();
    await first.exited();
    assert.equal(acknowledged.size, killAt, "the hub was killed after the chosen number of acknowledgements");

    const second = await startHub(args);
    hubs.push(second);
    const url = new URL(second.mercure);
    url.searchParams.set("topic", "https://example.test/crash");
    const stop = new AbortController();
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${jwt}`, "last-event-id": "earliest" },
      signal: stop.signal,
    });
    assert.equal(response.status, 200);
    // Published after subscribing, the sentinel arrives after the whole replayed history.
    await publish(new Agent(), second.mercure, jwt, "sentinel");

    const replayed: number[] = [];
    const body = response.body;
    assert.ok(body);
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let sawSentinel = false;
    const parser = createParser({
      onEvent(event) {
        if (event.data === "sentinel") sawSentinel = true;
        else replayed.push(Number(event.data));
      },
    });
    while (!sawSentinel) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    stop.abort();
    assert.ok(sawSentinel, "the stream reached the sentinel");

    assert.equal(new Set(replayed).size, replayed.length, "no update is replayed twice");
    const replayedSet = new Set(replayed);
    const missing = [...acknowledged.keys()].filter((n) => !replayedSet.has(n));
    assert.deepEqual(missing, [], "every acknowledged update is replayed");
    const extra = replayed.filter((n) => !acknowledged.has(n));
    assert.ok(extra.length <= IN_FLIGHT, `at most the in-flight publishes are extra (got ${extra.length})`);

    // Order: if A was acknowledged before B was sent, A comes before B.
    const seenAck: boolean[] = [];
    let prefix = 0; // every ackSeq below prefix has been seen
    for (const n of replayed) {
      const ack = acknowledged.get(n);
      if (!ack) continue;
      assert.ok(
        prefix >= ack.sentAfter,
        `update ${n} was replayed before an update acknowledged before it was sent`,
      );
      seenAck[ack.ackSeq] = true;
      while (seenAck[prefix]) prefix++;
    }
  },
);
