import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { MemoryStore } from "../../src/transports/memory.js";
import { SqliteStore } from "../../src/transports/sqlite.js";
import { DuplicateIdError, type Store, type Update } from "../../src/transports/transport.js";

const dir = mkdtempSync(join(tmpdir(), "ssekit-hub-stores-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const update = (id: string, topics = ["/t"]): Update => ({
  id,
  topics,
  data: `data of ${id}`,
  private: false,
});

const kinds: Record<string, (maxEvents?: number, maxAgeMs?: number) => Store> = {
  memory: (maxEvents = 1000, maxAgeMs = 3_600_000) => new MemoryStore({ maxEvents, maxAgeMs }),
  sqlite: (maxEvents = 1000, maxAgeMs = 3_600_000) =>
    new SqliteStore({ path: join(dir, `s${files++}.db`), maxEvents, maxAgeMs }),
};

for (const [kind, open] of Object.entries(kinds)) {
  describe(`${kind} store`, () => {
    test("assigns increasing sequence numbers and keeps every field", async () => {
      const store = open();
      const a = await store.append({
        ...update("a"),
        type: "note",
        retry: 5,
        private: true,
        topics: ["/x", "/y"],
      });
      const b = await store.append(update("b"));
      assert.ok(b.seq > a.seq);
      const result = await store.after("earliest", 10);
      assert.equal(result.kind, "found");
      assert.deepEqual(
        result.updates.map((u) => ({
          id: u.id,
          topics: u.topics,
          data: u.data,
          private: u.private,
          type: u.type,
          retry: u.retry,
        })),
        [
          { id: "a", topics: ["/x", "/y"], data: "data of a", private: true, type: "note", retry: 5 },
          { id: "b", topics: ["/t"], data: "data of b", private: false, type: undefined, retry: undefined },
        ],
      );
      await store.close();
    });

    test("hands each turn's appends to its listener once, in order, before they resolve; a duplicate is left out", async () => {
      const store = open();
      await store.append(update("taken"));
      const batches: string[][] = [];
      const heard: string[] = [];
      store.onAppended((batch) => batches.push(batch.map((u) => u.id)));
      const settle = (id: string) =>
        store.append(update(id)).then(
          (stored) => {
            heard.push(`${stored.id}: ${batches.flat().includes(stored.id) ? "delivered" : "not delivered"}`);
          },
          (error: unknown) => heard.push(`${id}: ${error instanceof DuplicateIdError ? "duplicate" : error}`),
        );
      await Promise.all([settle("one"), settle("taken"), settle("two")]);
      await settle("three");
      assert.deepEqual(batches, [["one", "two"], ["three"]]);
      assert.deepEqual(heard, ["one: delivered", "taken: duplicate", "two: delivered", "three: delivered"]);
      store.onAppended(undefined);
      await store.append(update("four"));
      assert.deepEqual(batches, [["one", "two"], ["three"]]);
      await store.close();
    });

    test("after(id) returns what follows, limited, and continues by sequence", async () => {
      const store = open();
      for (const id of ["1", "2", "3", "4", "5"]) await store.append(update(id));
      const page = await store.after("2", 2);
      assert.deepEqual(page.kind === "found" && page.updates.map((u) => u.id), ["3", "4"]);
      const last = page.updates.at(-1);
      assert.ok(last);
      assert.deepEqual(
        (await store.afterSeq(last.seq, 10)).map((u) => u.id),
        ["5"],
      );
      assert.equal(await store.lastEventId(), "5");
      await store.close();
    });

    test("an unknown id is reported with the oldest kept updates", async () => {
      const store = open();
      await store.append(update("1"));
      const result = await store.after("never-published", 10);
      assert.equal(result.kind, "unknown-id");
      assert.deepEqual(
        result.updates.map((u) => u.id),
        ["1"],
      );
      await store.close();
    });

    test("an empty history's last event id is earliest", async () => {
      const store = open();
      assert.equal(await store.lastEventId(), "earliest");
      await store.close();
    });

    test("a duplicate id is refused with DuplicateIdError", async () => {
      const store = open();
      await store.append(update("same"));
      await assert.rejects(store.append(update("same")), DuplicateIdError);
      await store.close();
    });

    test("prune keeps at most maxEvents, newest first", async () => {
      const store = open(3);
      for (let i = 1; i <= 10; i++) await store.append(update(String(i)));
      await store.prune();
      const result = await store.after("earliest", 100);
      assert.deepEqual(
        result.updates.map((u) => u.id),
        ["8", "9", "10"],
      );
      assert.equal((await store.after("2", 10)).kind, "unknown-id");
      await store.close();
    });

    test("prune removes updates older than maxAgeMs", async () => {
      const store = open(1000, 60_000);
      await store.append(update("old"));
      const removed = await store.prune(Date.now() + 120_000);
      assert.equal(removed, 1);
      assert.equal(await store.lastEventId(), "earliest");
      await store.close();
    });
  });
}

describe("sqlite durability", () => {
  test("an acknowledged append survives a handle that is never closed (crash) and replays from a fresh one", async () => {
    const path = join(dir, "crash.db");
    const crashed = new SqliteStore({ path, maxEvents: 100, maxAgeMs: 3_600_000 });
    const acknowledged: string[] = [];
    for (let i = 0; i < 50; i++) acknowledged.push((await crashed.append(update(`u${i}`))).id);
    // No close(): the first handle is abandoned as a killed process would leave it.
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
    raw.close();
    const reopened = new SqliteStore({ path, maxEvents: 100, maxAgeMs: 3_600_000 });
    const result = await reopened.after("earliest", 1000);
    assert.deepEqual(
      result.updates.map((u) => u.id),
      acknowledged,
    );
    const next = await reopened.append(update("after-crash"));
    assert.ok(next.seq > (result.updates.at(-1)?.seq ?? Number.POSITIVE_INFINITY));
    await reopened.close();
    await crashed.close();
  });

  test("sequence numbers are never reused after history is pruned empty", async () => {
    const path = join(dir, "seq.db");
    const store = new SqliteStore({ path, maxEvents: 1, maxAgeMs: 3_600_000 });
    const first = await store.append(update("a"));
    await store.prune(Date.now() + 7_200_000);
    const second = await store.append(update("b"));
    assert.ok(second.seq > first.seq);
    await store.close();
  });
});

test("the SQLite store creates the directory of its file", async () => {
  const store = new SqliteStore({
    path: join(dir, "nested", "deeper", "hub.db"),
    maxEvents: 10,
    maxAgeMs: 60_000,
  });
  assert.equal((await store.append(update("in-nested"))).id, "in-nested");
  await store.close();
});
