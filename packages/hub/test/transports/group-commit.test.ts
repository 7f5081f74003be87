// Group commit in the SQLite store, checked from a second SQLite connection on the same file: an
// append resolves only once its row is committed, the appends of one turn commit together and
// resolve in call order, a duplicate id fails alone, and close() commits what is still waiting.
// The memory store batches the appends of one turn the same way.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { MemoryStore } from "../../src/transports/memory.js";
import { SqliteStore } from "../../src/transports/sqlite.js";
import { DuplicateIdError, type StoredUpdate, type Update } from "../../src/transports/transport.js";

const dir = mkdtempSync(join(tmpdir(), "ssekit-hub-group-commit-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const update = (id: string): Update => ({ id, topics: ["/g"], data: `data of ${id}`, private: false });
const open = (path: string) => new SqliteStore({ path, maxEvents: 10_000, maxAgeMs: 3_600_000 });

/** The ids committed in the file, read through a connection of its own. */
function committedIds(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare<[], { id: string }>("SELECT id FROM updates ORDER BY seq")
      .all()
      .map((row) => row.id);
  } finally {
    db.close();
  }
}

describe("SQLite group commit", () => {
  test("the appends of one turn commit together and resolve in call order with increasing seq", async () => {
    const path = join(dir, `g${files++}.db`);
    const store = open(path);
    try {
      const ids = Array.from({ length: 100 }, (_, i) => `id-${i}`);
      const settled: string[] = [];
      let seenAtFirst: string[] | undefined;
      const appends = ids.map((id, i) =>
        store.append(update(id)).then((stored) => {
          // When the first append is acknowledged, every row of its batch is already committed.
          if (i === 0) seenAtFirst = committedIds(path);
          settled.push(stored.id);
          return stored;
        }),
      );
      const stored: StoredUpdate[] = await Promise.all(appends);
      assert.deepEqual(settled, ids);
      assert.deepEqual(seenAtFirst, ids);
      for (let i = 1; i < stored.length; i++) assert.ok((stored[i]?.seq ?? 0) > (stored[i - 1]?.seq ?? 0));
      assert.deepEqual(
        (await store.afterSeq(0, 1000)).map((u) => u.id),
        ids,
      );
    } finally {
      await store.close();
    }
  });

  test("a duplicate id fails only its own append; the rest of its batch is committed", async () => {
    const path = join(dir, `g${files++}.db`);
    const store = open(path);
    try {
      await store.append(update("old"));
      const results = await Promise.allSettled([
        store.append(update("a")),
        store.append(update("old")),
        store.append(update("b")),
        store.append(update("b")),
        store.append(update("c")),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled"],
      );
      for (const r of results) {
        if (r.status === "rejected") assert.ok(r.reason instanceof DuplicateIdError);
      }
      assert.deepEqual(committedIds(path), ["old", "a", "b", "c"]);
    } finally {
      await store.close();
    }
  });

  test("an acknowledged append is visible to another connection at once", async () => {
    const path = join(dir, `g${files++}.db`);
    const store = open(path);
    try {
      for (let i = 0; i < 5; i++) {
        const stored = await store.append(update(`one-${i}`));
        assert.equal(committedIds(path).at(-1), stored.id);
      }
    } finally {
      await store.close();
    }
  });

  test("close() commits the appends still waiting for the end of the turn", async () => {
    const path = join(dir, `g${files++}.db`);
    const store = open(path);
    const pending = [store.append(update("late-1")), store.append(update("late-2"))];
    await store.close();
    const stored = await Promise.all(pending);
    assert.deepEqual(
      stored.map((u) => u.id),
      ["late-1", "late-2"],
    );
    const reopened = open(path);
    try {
      assert.deepEqual(
        (await reopened.afterSeq(0, 10)).map((u) => u.id),
        ["late-1", "late-2"],
      );
      await assert.rejects(store.append(update("after-close")), /closed/);
    } finally {
      await reopened.close();
    }
  });
});

describe("memory store batches", () => {
  const memory = () => new MemoryStore({ maxEvents: 10_000, maxAgeMs: 3_600_000 });

  test("the appends of one turn are stored together at its end and resolve in call order", async () => {
    const store = memory();
    const ids = Array.from({ length: 100 }, (_, i) => `id-${i}`);
    const settled: string[] = [];
    let keptAtFirst: Promise<readonly StoredUpdate[]> | undefined;
    const appends = ids.map((id, i) =>
      store.append(update(id)).then((stored) => {
        // When the first append is acknowledged, every update of its batch is already stored.
        if (i === 0) keptAtFirst = store.afterSeq(0, 1000);
        settled.push(stored.id);
        return stored;
      }),
    );
    // Nothing is stored before the turn ends.
    assert.deepEqual(await store.afterSeq(0, 1000), []);
    const stored = await Promise.all(appends);
    assert.deepEqual(
      (await keptAtFirst)?.map((u) => u.id),
      ids,
    );
    assert.deepEqual(settled, ids);
    for (let i = 1; i < stored.length; i++) assert.equal(stored[i]?.seq, (stored[i - 1]?.seq ?? 0) + 1);
  });

  test("a duplicate id fails only its own append, with the stored update", async () => {
    const store = memory();
    await store.append(update("old"));
    const results = await Promise.allSettled(
      ["a", "old", "b", "b", "c"].map((id) => store.append(update(id))),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled"],
    );
    const refused = results[3];
    assert.ok(refused?.status === "rejected" && refused.reason instanceof DuplicateIdError);
    assert.equal(refused.reason.existing?.data, "data of b");
    assert.deepEqual(
      (await store.afterSeq(0, 10)).map((u) => u.id),
      ["old", "a", "b", "c"],
    );
  });

  test("close() stores the appends still waiting for the end of the turn", async () => {
    const store = memory();
    const pending = [store.append(update("late-1")), store.append(update("late-2"))];
    await store.close();
    assert.deepEqual(
      (await Promise.all(pending)).map((u) => u.id),
      ["late-1", "late-2"],
    );
  });
});
