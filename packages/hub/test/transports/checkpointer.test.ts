// WAL checkpoints of the SQLite store run in a worker thread: observed through the store's
// onCheckpoint hook and through the files on disk, with a real better-sqlite3 database.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { CheckpointResult } from "../../src/transports/checkpointer.js";
import { SqliteStore } from "../../src/transports/sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "ssekit-hub-checkpoint-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("SQLite background checkpoints", () => {
  test("the worker copies committed WAL frames into the database file", { timeout: 20_000 }, async () => {
    const path = join(dir, "wal.db");
    let onCheckpoint: (result: CheckpointResult) => void = () => undefined;
    const store = new SqliteStore({
      path,
      maxEvents: 10_000,
      maxAgeMs: 3_600_000,
      checkpointIntervalMs: 10,
      onCheckpoint: (result) => onCheckpoint(result),
    });
    try {
      const sizeBefore = statSync(path).size;
      await Promise.all(
        Array.from({ length: 2_000 }, (_, i) =>
          store.append({ id: `w-${i}`, topics: ["/w"], data: "x".repeat(200), private: false }),
        ),
      );
      // Wait for a checkpoint that found the frames of those commits and copied every one. The
      // worker does not hold the process open (an unclosed store must not), so this wait does.
      const holdOpen = setInterval(() => undefined, 1_000);
      const done = await new Promise<CheckpointResult>((resolve) => {
        onCheckpoint = (result) => {
          if (result.frames > 0 && result.checkpointed === result.frames) resolve(result);
        };
      }).finally(() => clearInterval(holdOpen));
      assert.ok(done.frames > 0);
      assert.ok(statSync(path).size > sizeBefore, "the database file grew with the checkpointed pages");
      assert.equal((await store.afterSeq(0, 5_000)).length, 2_000);
    } finally {
      await store.close();
    }
  });

  test("close() stops the worker; a reopened store has every row", { timeout: 20_000 }, async () => {
    const path = join(dir, "close.db");
    const first = new SqliteStore({ path, maxEvents: 10_000, maxAgeMs: 3_600_000 });
    for (let i = 0; i < 10; i++)
      await first.append({ id: `c-${i}`, topics: ["/c"], data: "", private: false });
    await first.close();
    const second = new SqliteStore({ path, maxEvents: 10_000, maxAgeMs: 3_600_000 });
    try {
      assert.deepEqual(
        (await second.afterSeq(0, 100)).map((u) => u.id),
        Array.from({ length: 10 }, (_, i) => `c-${i}`),
      );
    } finally {
      await second.close();
    }
  });
});
