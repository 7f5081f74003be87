import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import {
  createRedisLog,
  DuplicateIdError,
  type LogEntry,
  type RedisLog,
  RedisLogError,
  START,
} from "../src/index.js";
import { RedisServer } from "./support/redis-server.js";

let server: RedisServer;
let admin: Redis;
let keys = 0;
const key = () => `log-test-${++keys}`;

before(async () => {
  server = await RedisServer.start();
  admin = new Redis(server.url);
});
after(async () => {
  admin.disconnect();
  await server.stop();
});

test("append resolves with increasing stream ids and read returns the entries after an id", async () => {
  const log = createRedisLog({ redis: server.url, key: key() });
  try {
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4]) ids.push(await log.append({ n: String(n) }));
    assert.equal(new Set(ids).size, 4);
    const all = await log.read(START, 10);
    assert.equal(all.kind, "found");
    assert.deepEqual(
      all.kind === "found" ? all.entries.map((e) => [e.id, e.fields.n]) : [],
      ids.map((id, i) => [id, String(i + 1)]),
    );
    const rest = await log.read(ids[1] ?? "", 10);
    assert.deepEqual(rest.kind === "found" ? rest.entries.map((e) => e.fields.n) : rest.kind, ["3", "4"]);
    const page = await log.read(ids[0] ?? "", 2);
    assert.deepEqual(page.kind === "found" ? page.entries.map((e) => e.fields.n) : page.kind, ["2", "3"]);
    assert.equal(await log.lastId(), ids[3]);
  } finally {
    await log.close();
  }
});

test("get reads one entry by its stream id, newest looks back from the end page by page", async () => {
  const log = createRedisLog({ redis: server.url, key: key(), maxLength: 4 });
  try {
    const ids: string[] = [];
    for (let n = 1; n <= 6; n++) ids.push(await log.append({ n: String(n) }));
    assert.equal((await log.get(ids[4] ?? ""))?.fields.n, "5");
    assert.equal(await log.get(ids[0] ?? ""), undefined, "trimmed");
    assert.equal(await log.get("not-an-id"), undefined);
    assert.deepEqual(
      (await log.newest(2)).map((e) => e.fields.n),
      ["6", "5"],
    );
    assert.deepEqual(
      (await log.newest(10, ids[4])).map((e) => e.fields.n),
      ["4", "3"],
    );
    await assert.rejects(
      log.newest(1, "nope"),
      (error: unknown) => error instanceof RedisLogError && error.code === "INVALID_OPTION",
    );
  } finally {
    await log.close();
  }
});

test("read tells an unknown id (garbage, or newer than the log ever made) from a trimmed one", async () => {
  const log = createRedisLog({ redis: server.url, key: key(), maxLength: 3 });
  try {
    const ids: string[] = [];
    for (let n = 1; n <= 6; n++) ids.push(await log.append({ n: String(n) }));
    assert.equal(await admin.xlen(log.key), 3, "trimmed exactly to maxLength");
    assert.deepEqual(await log.read("not-an-id", 10), { kind: "unknown" });
    assert.deepEqual(await log.read("99999999999999-0", 10), { kind: "unknown" });
    const old = await log.read(ids[0] ?? "", 10);
    assert.equal(old.kind, "trimmed");
    assert.deepEqual(old.kind === "trimmed" ? old.entries.map((e) => e.fields.n) : [], ["4", "5", "6"]);
    // The last entry trimmed was seen by whoever resumes from it: nothing after it is missing.
    const edge = await log.read(ids[2] ?? "", 10);
    assert.equal(edge.kind, "found");
    assert.deepEqual(edge.kind === "found" ? edge.entries.map((e) => e.fields.n) : [], ["4", "5", "6"]);
    const empty = await log.read(ids[5] ?? "", 10);
    assert.deepEqual(empty, { kind: "found", after: ids[5], entries: [] });
    const missing = createRedisLog({ redis: server.url, key: key() });
    try {
      assert.deepEqual(await missing.read(ids[5] ?? "", 10), { kind: "unknown" });
      assert.deepEqual(await missing.read(START, 10), { kind: "found", after: START, entries: [] });
    } finally {
      await missing.close();
    }
  } finally {
    await log.close();
  }
});

test("trims by age on append, by Redis's clock", async () => {
  const log = createRedisLog({ redis: server.url, key: key(), maxAgeMs: 5 });
  try {
    const first = await log.append({ n: "1" });
    const firstMs = Number(first.split("-")[0]);
    // Wait on Redis's clock (not a fixed sleep) until the first entry is older than maxAgeMs.
    for (;;) {
      const [seconds, micros] = await admin.time();
      if (Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) > firstMs + 5) break;
    }
    await log.append({ n: "2" });
    const kept = await admin.xrange(log.key, "-", "+");
    assert.deepEqual(
      kept.map(([, fields]) => fields[1]),
      ["2"],
    );
  } finally {
    await log.close();
  }
});

test("with idField, a taken event id is refused atomically and resolves to its entry", async () => {
  const log = createRedisLog({ redis: server.url, key: key(), idField: "eid", maxLength: 2 });
  try {
    const a = await log.append({ eid: "order-1", data: "x" });
    await assert.rejects(log.append({ eid: "order-1", data: "y" }), (error: unknown) => {
      assert.ok(error instanceof DuplicateIdError);
      assert.equal(error.code, "DUPLICATE_ID");
      assert.equal(error.entryId, a);
      return true;
    });
    // Concurrent appends of one id: exactly one wins.
    const results = await Promise.allSettled([
      log.append({ eid: "order-2", data: "1" }),
      log.append({ eid: "order-2", data: "2" }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "rejected"],
    );
    assert.equal(await log.find("order-1"), a);
    const after = await log.read("order-1", 10);
    assert.deepEqual(after.kind === "found" ? after.entries.map((e) => e.fields.eid) : after.kind, [
      "order-2",
    ]);
    // Trimming drops the index entry with the log entry, so the id is free again.
    await log.append({ data: "no id" });
    await log.append({ data: "no id" });
    assert.equal(await log.find("order-1"), undefined);
    assert.deepEqual(await admin.hkeys(`${log.key}:ids`), []);
    await log.append({ eid: "order-1", data: "again" });
  } finally {
    await log.close();
  }
});

test("appends made in one turn go in one batch, each refused or accepted as if alone, in call order, trimmed exactly", async () => {
  const log = createRedisLog({ redis: server.url, key: key(), idField: "eid", maxLength: 50 });
  try {
    await log.append({ eid: "warm-up", data: "0" });
    // Redis's own count of the scripts it ran (no client of this file runs one meanwhile). Not
    // MONITOR: ioredis enters monitoring mode a microtask after MONITOR's answer, so a command
    // that Redis reports in the same read as that answer is taken for a reply to nothing
    // ("Command queue state error") and the monitoring connection is left reconnecting.
    const before = await scriptCalls();
    // 120 appends in one turn: ids repeat every 40 (so every third one is a duplicate of one made
    // earlier in the same batch), and the batch is longer than the log keeps.
    const settled = await Promise.allSettled(
      Array.from({ length: 120 }, (_, n) => log.append({ eid: `e-${n % 80}`, data: String(n) })),
    );
    const after = await scriptCalls();
    assert.deepEqual(
      { evalsha: after.evalsha - before.evalsha, eval: after.eval - before.eval },
      { evalsha: 1, eval: 0 },
      "one script call for the whole turn",
    );
    const accepted = settled.flatMap((r, n) => (r.status === "fulfilled" ? [[n, r.value] as const] : []));
    assert.deepEqual(
      accepted.map(([n]) => n),
      Array.from({ length: 80 }, (_, n) => n),
    );
    for (let n = 80; n < 120; n++) {
      const result = settled[n];
      assert.ok(result?.status === "rejected" && result.reason instanceof DuplicateIdError, `append ${n}`);
      assert.equal(result.reason.entryId, accepted[n - 80]?.[1], "refused with the entry that holds the id");
    }
    const ids = accepted.map(([, id]) => id);
    const order = (id: string) => id.split("-").map(BigInt) as [bigint, bigint];
    for (let n = 1; n < ids.length; n++) {
      const [ms, seq] = order(ids[n] ?? "");
      const [prevMs, prevSeq] = order(ids[n - 1] ?? "");
      assert.ok(ms > prevMs || (ms === prevMs && seq > prevSeq), "entry ids increase in call order");
    }
    // Trimmed exactly to the newest 50, with the index of the trimmed ones gone.
    const kept = await log.read(START, 100);
    assert.equal(kept.kind, "trimmed");
    assert.deepEqual(
      kept.entries.map((e) => e.fields.data),
      Array.from({ length: 50 }, (_, n) => String(n + 30)),
    );
    assert.equal(await admin.hlen(`${log.key}:ids`), 50);
    assert.equal(await log.find("e-29"), undefined);
    assert.equal(await log.find("e-30"), ids[30]);
  } finally {
    await log.close();
  }
});

/** How many EVALSHA and EVAL commands Redis has run so far, from every client (INFO commandstats). */
async function scriptCalls(): Promise<{ evalsha: number; eval: number }> {
  const info = await admin.info("commandstats");
  const calls = (command: string) =>
    Number(info.match(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, "m"))?.[1] ?? 0);
  return { evalsha: calls("evalsha"), eval: calls("eval") };
}

test("Buffer values round-trip byte for byte with buffers: true", async () => {
  const log = createRedisLog({ redis: server.url, key: key(), buffers: true });
  try {
    const bytes = Buffer.from([0, 255, 10, 13, 0xc3, 0x28]);
    const id = await log.append({ payload: bytes, text: "é" });
    const read = await log.read(START, 10);
    const entry = read.kind === "found" ? read.entries[0] : undefined;
    assert.equal(entry?.id, id);
    assert.ok(entry && Buffer.isBuffer(entry.fields.payload) && entry.fields.payload.equals(bytes));
    assert.equal(entry?.fields.text?.toString("utf8"), "é");
  } finally {
    await log.close();
  }
});

test("bad options and entries are refused with a message naming them", () => {
  assert.throws(() => createRedisLog({ redis: server.url, key: "" }), /key must be a non-empty string/);
  assert.throws(
    () => createRedisLog({ redis: server.url, key: "k", maxLength: 0 }),
    /maxLength must be an integer >= 1/,
  );
  assert.throws(() => createRedisLog({ redis: server.url, key: "k", maxAgeMs: -1 }), /maxAgeMs/);
});

test("append rejects an entry without fields or with a non-string value", async () => {
  const log = createRedisLog({ redis: server.url, key: key() });
  try {
    await assert.rejects(log.append({}), /at least one field/);
    await assert.rejects(log.append({ n: 1 as unknown as string }), /field "n" must be a string or a Buffer/);
  } finally {
    await log.close();
  }
});

test("a tail delivers every entry once, in order, to every follower", async () => {
  const log = createRedisLog({ redis: server.url, key: key(), blockMs: 200 });
  const other = createRedisLog({ redis: server.url, key: log.key });
  try {
    const seen: string[][] = [[], []];
    const wakes: (() => void)[] = [];
    const done = [0, 1].map(() => new Promise<void>((resolve) => wakes.push(resolve)));
    const tails = [log, other].map((source, i) =>
      source.tail("$", (entries: readonly LogEntry[]) => {
        for (const e of entries) seen[i]?.push(e.fields.n ?? "");
        if (seen[i]?.length === 50) wakes[i]?.();
      }),
    );
    // Both tails know where they start before anything is appended.
    await Promise.all(tails.map((t) => t.started()));
    assert.equal(tails[0]?.position, tails[1]?.position);
    const appends: Promise<string>[] = [];
    for (let n = 0; n < 50; n++) appends.push((n % 2 ? log : other).append({ n: String(n) }));
    await Promise.all(appends);
    await Promise.all(done);
    assert.equal(seen[0]?.length, 50);
    assert.deepEqual(seen[0], seen[1], "one order for every follower");
    assert.equal(new Set(seen[0]).size, 50, "each once");
  } finally {
    await Promise.all([log.close(), other.close()]);
  }
});

test("Redis down: append rejects with a typed error; after a SIGKILL and restart with appendonly, a tail resumes with no loss and no duplicate", async () => {
  const durable = await RedisServer.start({ appendonly: true });
  const log = createRedisLog({
    redis: durable.url,
    key: "outage",
    blockMs: 200,
    backoff: { initialMs: 20, maxMs: 200 },
  });
  let other: RedisLog | undefined;
  try {
    const seen: string[] = [];
    let resumed = 0;
    let failed = 0;
    let notify: () => void = () => {};
    let onResume: () => void = () => {};
    const back = new Promise<void>((resolve) => {
      onResume = resolve;
    });
    const tail = log.tail(
      "$",
      (entries) => {
        for (const e of entries) seen.push(e.fields.n ?? "");
        notify();
      },
      {
        onError: () => failed++,
        onResume: () => {
          resumed++;
          onResume();
        },
      },
    );
    await tail.started();
    const until = (count: number) =>
      new Promise<void>((resolve) => {
        notify = () => seen.length >= count && resolve();
        notify();
      });
    for (let n = 0; n < 5; n++) await log.append({ n: String(n) });
    await until(5);
    await durable.kill();
    const down = await log.append({ n: "lost" }).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(down instanceof RedisLogError, `append rejects while Redis is down (got ${String(down)})`);
    assert.ok(down.code === "UNAVAILABLE" || down.code === "UNCERTAIN", down.code);
    await durable.restart();
    // Appends succeed again once the connection is back.
    let appended = 0;
    while (appended < 5) {
      try {
        await log.append({ n: String(5 + appended) });
        appended++;
      } catch (error) {
        assert.ok(error instanceof RedisLogError && error.code === "UNAVAILABLE", String(error));
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    await until(10);
    // The log's own appends reach its tail from their answers, maybe before the tail is back.
    assert.deepEqual(seen, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    await back;
    assert.ok(failed > 0 && resumed > 0, "the tail reported the outage and the resume");
    // Resumed after the last entry it delivered: another process's append comes through XREAD, once.
    other = createRedisLog({ redis: durable.url, key: "outage" });
    await other.append({ n: "10" });
    await until(11);
    assert.deepEqual(seen, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
  } finally {
    await Promise.all([log.close(), other?.close()]);
    await durable.stop();
  }
});

test("an append that times out is UNCERTAIN: it may still land, and resending it with the same indexed id is refused, not doubled", async () => {
  const frozen = await RedisServer.start();
  const log = createRedisLog({ redis: frozen.url, key: "uncertain", idField: "eid", timeoutMs: 200 });
  try {
    await log.append({ eid: "warm-up", data: "0" });
    frozen.pause();
    const error = await log.append({ eid: "payment-7", data: "1" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof RedisLogError, String(error));
    assert.equal(error.code, "UNCERTAIN");
    frozen.resume();
    // Redis ran the append once it could; the retry a careful caller makes is refused.
    await assert.rejects(log.append({ eid: "payment-7", data: "1" }), DuplicateIdError);
    const all = await log.read(START, 10);
    assert.deepEqual(all.kind === "found" ? all.entries.map((e) => e.fields.eid) : all.kind, [
      "warm-up",
      "payment-7",
    ]);
  } finally {
    frozen.resume();
    await log.close();
    await frozen.stop();
  }
});

test("Redis unreachable at start: appends and tails report it after timeoutMs, then work once it is up", async () => {
  const late = await RedisServer.start();
  await late.kill();
  const log = createRedisLog({
    redis: late.url,
    key: "late",
    timeoutMs: 200,
    backoff: { initialMs: 20, maxMs: 100 },
  });
  try {
    await assert.rejects(log.append({ data: "early" }), { code: "UNAVAILABLE" });
    const seen: string[] = [];
    let notify = () => {};
    const tail = log.tail("$", (entries) => {
      for (const e of entries) seen.push(e.fields.data ?? "");
      notify();
    });
    await assert.rejects(tail.started(), { code: "UNAVAILABLE" });
    await late.restart();
    for (;;) {
      const ok = await tail.started().then(
        () => true,
        () => false,
      );
      if (ok) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await log.append({ data: "now" });
    await new Promise<void>((resolve) => {
      notify = () => seen.length > 0 && resolve();
      notify();
    });
    assert.deepEqual(seen, ["now"]);
  } finally {
    await log.close();
    await late.stop();
  }
});

/** The client id Redis gives the connection named `name` (the log names its connections). */
async function clientId(name: string): Promise<string> {
  const list = String(await admin.call("CLIENT", "LIST"));
  const line = list.split("\n").find((l) => l.includes(` name=${name} `));
  const id = line?.match(/^id=(\d+) /)?.[1];
  if (id === undefined) throw new Error(`no client named ${name}`);
  return id;
}

test("an append hands its entries to its own log's tails at the end before it resolves, even with the tail's connection down; the tail reads on after them, each entry once", async () => {
  // The tail's connection stays down for a second after the kill, so only the append's answer can bring the entries.
  const log = createRedisLog({ redis: server.url, key: key(), backoff: { initialMs: 2_000, maxMs: 2_000 } });
  const other = createRedisLog({ redis: server.url, key: log.key });
  try {
    const seen: string[] = [];
    const otherSeen: string[] = [];
    let notify: () => void = () => {};
    const tail = log.tail("$", (entries) => {
      for (const e of entries) seen.push(`${e.id} ${e.fields.n}`);
      notify();
    });
    const otherTail = other.tail("$", (entries) => {
      for (const e of entries) otherSeen.push(`${e.id} ${e.fields.n}`);
      notify();
    });
    await Promise.all([tail.started(), otherTail.started()]);
    await admin.call("CLIENT", "KILL", "ID", await clientId(`ssekit-tail:${log.key}`));
    // A lone surrogate is stored as UTF-8's replacement character: the process that appended it
    // must see what every other process reads back.
    const first = await log.append({ n: "a\uD800" });
    assert.deepEqual(seen, [`${first} a\uFFFD`], "delivered from the answer, before append resolved");
    const burst = await Promise.all([log.append({ n: "b" }), log.append({ n: "c" })]);
    assert.deepEqual(seen.slice(1), [`${burst[0]} b`, `${burst[1]} c`]);
    // Entries appended elsewhere come through XREAD once the connection is back, after those.
    const elsewhere = await other.append({ n: "d" });
    const mine = await log.append({ n: "e" });
    const expected = [`${first} a\uFFFD`, `${burst[0]} b`, `${burst[1]} c`, `${elsewhere} d`, `${mine} e`];
    await new Promise<void>((resolve) => {
      notify = () => seen.length >= 5 && otherSeen.length >= 5 && resolve();
      notify();
    });
    assert.deepEqual(seen.slice(0, 3), expected.slice(0, 3));
    // "e" followed "d", which this process had not read yet: it waited for the tail, in log order.
    assert.deepEqual(seen, expected);
    assert.deepEqual(otherSeen, expected, "one order, the same values, in every process");
    await log.append({ n: "f" });
    await new Promise<void>((resolve) => {
      notify = () => otherSeen.length >= 6 && resolve();
      notify();
    });
    assert.deepEqual(seen, otherSeen, "nothing delivered twice");
  } finally {
    await Promise.all([log.close(), other.close()]);
  }
});

test("batches in flight together stay in call order when Redis lost the script: one sent before another is refused, not appended after it", async () => {
  const log = createRedisLog({ redis: server.url, key: key() });
  try {
    await log.append({ n: "warm-up" });
    await admin.call("SCRIPT", "FLUSH");
    const firstBatch = log.append({ n: "1" });
    // Let the first batch go (its flush is a microtask), then make a second one while it is on its way.
    await Promise.resolve();
    const secondBatch = log.append({ n: "2" });
    const [first, second] = await Promise.allSettled([firstBatch, secondBatch]);
    assert.equal(first?.status, "rejected", "sent before another batch: not resent");
    assert.ok(
      first?.status === "rejected" &&
        first.reason instanceof RedisLogError &&
        first.reason.code === "REJECTED",
      String(first?.status === "rejected" ? first.reason : first),
    );
    assert.equal(second?.status, "fulfilled", "the last one sent is resent whole");
    const all = await log.read(START, 10);
    assert.deepEqual(all.kind === "found" ? all.entries.map((e) => e.fields.n) : all.kind, ["warm-up", "2"]);
    // The script is cached again: appends go on as before.
    assert.deepEqual(
      await Promise.all([log.append({ n: "3" }), log.append({ n: "4" })]).then((ids) => ids.length),
      2,
    );
  } finally {
    await log.close();
  }
});

test("after Redis restarts without its script cache, appends in flight together all land: the log loads the script first on every new connection", async () => {
  const durable = await RedisServer.start({ appendonly: true });
  const log = createRedisLog({ redis: durable.url, key: "reload", backoff: { initialMs: 20, maxMs: 100 } });
  try {
    await log.append({ n: "0" });
    await durable.kill();
    await durable.restart();
    while (!log.connected) await new Promise<void>((resolve) => setTimeout(resolve, 10));
    const firstBatch = log.append({ n: "1" });
    await Promise.resolve();
    const ids = await Promise.all([firstBatch, log.append({ n: "2" })]);
    assert.equal(ids.length, 2);
    const all = await log.read(START, 10);
    assert.deepEqual(all.kind === "found" ? all.entries.map((e) => e.fields.n) : all.kind, ["0", "1", "2"]);
  } finally {
    await log.close();
    await durable.stop();
  }
});

/** The clients connected to the test server whose name ends with `:key` (the log names its connections so). */
async function clientsOf(key: string): Promise<string[]> {
  const list = String(await admin.call("CLIENT", "LIST"));
  return list
    .split("\n")
    .map((line) => line.match(/ name=(\S*) /)?.[1] ?? "")
    .filter((name) => name.endsWith(`:${key}`));
}

test("close cuts a tail's XREAD BLOCK short and resolves once no connection of the log is left; a second close resolves the same way", async () => {
  const log = createRedisLog({ redis: server.url, key: key(), blockMs: 600_000 });
  let closing: Promise<void> | undefined;
  try {
    const tail = log.tail("$", () => {});
    await tail.started();
    await log.append({ n: "1" });
    assert.deepEqual((await clientsOf(log.key)).sort(), [`ssekit-log:${log.key}`, `ssekit-tail:${log.key}`]);
    // Wait (on Redis's word, not a sleep) until the tail's XREAD is blocked.
    for (;;) {
      const list = String(await admin.call("CLIENT", "LIST"));
      if (
        list
          .split("\n")
          .some((line) => line.includes(` name=ssekit-tail:${log.key} `) && / flags=b /.test(line))
      )
        break;
    }
    closing = log.close();
    await log.close();
    assert.deepEqual(await clientsOf(log.key), [], "the second close waited for the connections too");
    await tail.close();
    await assert.rejects(log.append({ n: "2" }), { code: "CLOSED" });
    assert.throws(() => log.tail("$", () => {}), { code: "CLOSED" });
  } finally {
    await (closing ?? log.close());
  }
});

test(
  "close while Redis is unreachable ends the appends and tails waiting for the first connection with CLOSED at once",
  { timeout: 60_000 },
  async () => {
    const gone = await RedisServer.start();
    await gone.kill();
    let refused = 0;
    let onRefused = () => {};
    const log = createRedisLog({
      redis: gone.url,
      key: "gone",
      // Appends and tails wait for a connection far longer than the test may run: only close can end them.
      timeoutMs: 600_000,
      backoff: { initialMs: 20, maxMs: 40 },
      onConnectionError: () => onRefused(),
    });
    try {
      const tail = log.tail("$", () => {});
      const appended = log.append({ n: "1" });
      const started = tail.started();
      appended.catch(() => {});
      started.catch(() => {});
      // Refused a few times: the connections are between two attempts, as they are most of the time.
      await new Promise<void>((resolve) => {
        onRefused = () => ++refused >= 4 && resolve();
      });
      await log.close();
      await assert.rejects(appended, { code: "CLOSED" });
      await assert.rejects(started, { code: "CLOSED" });
    } finally {
      await log.close();
      await gone.stop();
    }
  },
);

const CLOSE_ALL = new URL("./fixtures/close-all.ts", import.meta.url).pathname;

test("a process whose logs are all closed ends by itself, whether Redis was up, unreachable or not answering, with close called twice at once", async (t) => {
  const down = await RedisServer.start();
  t.after(() => down.stop());
  await down.kill();
  const frozen = await RedisServer.start();
  t.after(() => frozen.stop());
  frozen.pause();
  const child = fork(CLOSE_ALL, [server.url, down.url, frozen.url], {
    execArgv: ["--conditions=ssekit-source", "--import", "tsx"],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  // A bound for a hang (the process normally ends within seconds), not a measure of speed.
  let timer: NodeJS.Timeout | undefined;
  try {
    const ended = await Promise.race([
      once(child, "exit").then(([code]) => code as number | null),
      new Promise<"running">((resolve) => {
        timer = setTimeout(() => resolve("running"), 60_000);
      }),
    ]);
    assert.notEqual(ended, "running", `the process did not end by itself after closing its logs:\n${output}`);
    assert.equal(ended, 0, output);
    assert.deepEqual(output.trim().split("\n"), ["live: true", "down: true", "frozen: true"], output);
  } finally {
    clearTimeout(timer);
    child.kill("SIGKILL");
  }
});
