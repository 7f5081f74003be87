/**
 * The SQLite history store (better-sqlite3), the hub's durable default. One table in sequence
 * order; WAL journal. Group commit: the appends made in one turn of the event loop are written in
 * one transaction at the end of that turn (`setImmediate`), and each `append` resolves, in call
 * order, only after that transaction has committed; a duplicate id fails its own append, not the
 * others of its batch. WAL checkpoints run in a worker thread (checkpointer.ts), not inside a
 * commit on the event loop. Durability: `append` resolves after the transaction commits. With
 * `synchronous = NORMAL` (durability "process", the default) a commit is in the OS page cache
 * when it returns, so a crash or SIGKILL of the hub process loses nothing acknowledged; only an OS
 * crash or power loss can lose the last commits. `synchronous = FULL` (durability "power") fsyncs
 * the WAL on every commit and survives those too, at a cost in publish latency.
 * Not responsible for fan-out or authorization.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type Database from "better-sqlite3";
import { AppendBatch, type PendingAppend, settleBatch } from "./append-batch.js";
import { Checkpointer, type CheckpointResult } from "./checkpointer.js";
import {
  type AfterResult,
  DuplicateIdError,
  type HistoryLimits,
  type Store,
  type StoredUpdate,
  storedUpdate,
  type Update,
} from "./transport.js";

/**
 * better-sqlite3 is an optional dependency (a native addon npm leaves out where it cannot build):
 * loaded when a SQLite store is opened, so a hub on another store starts without it.
 */
function openDatabase(path: string): Database.Database {
  const Driver = createRequire(import.meta.url)("better-sqlite3") as typeof Database;
  return new Driver(path);
}

interface Row {
  readonly seq: number;
  readonly id: string;
  readonly topics: string;
  readonly data: string;
  readonly private: number;
  readonly type: string | null;
  readonly retry: number | null;
  readonly time: number;
}

function fromRow(row: Row): StoredUpdate {
  return {
    seq: row.seq,
    id: row.id,
    topics: JSON.parse(row.topics) as string[],
    data: row.data,
    private: row.private === 1,
    type: row.type ?? undefined,
    retry: row.retry ?? undefined,
    time: row.time,
  };
}

export interface SqliteStoreOptions extends HistoryLimits {
  readonly path: string;
  /** "process" (default): synchronous = NORMAL; "power": synchronous = FULL. */
  readonly durability?: "process" | "power";
  /** Milliseconds between WAL checkpoints in the background. Default: 1000. */
  readonly checkpointIntervalMs?: number;
  /** Hears about a background checkpoint that failed. Default: ignore (the next one tries again). */
  readonly onCheckpointError?: (message: string) => void;
  /** Hears about each background checkpoint: WAL frames, and how many are in the database file. */
  readonly onCheckpoint?: (result: CheckpointResult) => void;
}

/** The outcome of one row of a batch: its sequence number, or why it was refused. */
type RowResult =
  | { readonly ok: true; readonly seq: number }
  | { readonly ok: false; readonly error: DuplicateIdError };

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<
    [string, string, string, number, string | null, number | null, number]
  >;
  readonly #bySeq: Database.Statement<[number, number], Row>;
  readonly #seqOf: Database.Statement<[string], { seq: number }>;
  readonly #last: Database.Statement<[], { id: string }>;
  readonly #lastPublic: Database.Statement<[], { id: string }>;
  readonly #byId: Database.Statement<[string], Row>;
  readonly #pruneCount: Database.Statement<[number]>;
  readonly #pruneAge: Database.Statement<[number]>;
  readonly limits: HistoryLimits;
  /** Appends of this turn of the event loop, committed together by `#store`. */
  readonly #batch = new AppendBatch((batch) => this.#store(batch));
  #onAppended: ((batch: readonly StoredUpdate[]) => void) | undefined;
  readonly #commit: (batch: readonly PendingAppend[], time: number) => RowResult[];
  readonly #checkpointer: Checkpointer | undefined;

  constructor(options: SqliteStoreOptions) {
    this.limits = options;
    if (options.path !== ":memory:" && options.path !== "")
      mkdirSync(dirname(options.path), { recursive: true });
    this.#db = openDatabase(options.path);
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma(`synchronous = ${options.durability === "power" ? "FULL" : "NORMAL"}`);
    this.#db.pragma("busy_timeout = 5000");
    // A file database is checkpointed by a worker thread; an in-memory one has no WAL to checkpoint.
    const file = options.path !== ":memory:" && options.path !== "";
    if (file) this.#db.pragma("wal_autocheckpoint = 0");
    this.#db.exec(`CREATE TABLE IF NOT EXISTS updates (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      topics TEXT NOT NULL,
      data TEXT NOT NULL,
      private INTEGER NOT NULL,
      type TEXT,
      retry INTEGER,
      time INTEGER NOT NULL
    )`);
    this.#db.exec("CREATE INDEX IF NOT EXISTS updates_time ON updates (time)");
    this.#db.exec("CREATE INDEX IF NOT EXISTS updates_public ON updates (seq) WHERE private = 0");
    this.#insert = this.#db.prepare(
      "INSERT INTO updates (id, topics, data, private, type, retry, time) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.#bySeq = this.#db.prepare("SELECT * FROM updates WHERE seq > ? ORDER BY seq LIMIT ?");
    this.#seqOf = this.#db.prepare("SELECT seq FROM updates WHERE id = ?");
    this.#last = this.#db.prepare("SELECT id FROM updates ORDER BY seq DESC LIMIT 1");
    this.#lastPublic = this.#db.prepare("SELECT id FROM updates WHERE private = 0 ORDER BY seq DESC LIMIT 1");
    this.#byId = this.#db.prepare("SELECT * FROM updates WHERE id = ?");
    this.#pruneCount = this.#db.prepare(
      "DELETE FROM updates WHERE seq <= (SELECT seq FROM updates ORDER BY seq DESC LIMIT 1 OFFSET ?)",
    );
    this.#pruneAge = this.#db.prepare("DELETE FROM updates WHERE time < ?");
    this.#checkpointer = file
      ? new Checkpointer(
          options.path,
          options.checkpointIntervalMs ?? 1_000,
          (message, stopped) => {
            // Without the worker, SQLite's own automatic checkpoint keeps the WAL bounded.
            if (stopped && this.#db.open) this.#db.pragma("wal_autocheckpoint = 1000");
            options.onCheckpointError?.(message);
          },
          options.onCheckpoint,
        )
      : undefined;
    // One transaction per batch; a row refused by a constraint only undoes its own INSERT.
    this.#commit = this.#db.transaction((batch: readonly PendingAppend[], time: number) =>
      batch.map(({ update }): RowResult => {
        try {
          const info = this.#insert.run(
            update.id,
            JSON.stringify(update.topics),
            update.data,
            update.private ? 1 : 0,
            update.type ?? null,
            update.retry ?? null,
            time,
          );
          return { ok: true, seq: Number(info.lastInsertRowid) };
        } catch (error) {
          if (error instanceof Error && (error as { code?: unknown }).code === "SQLITE_CONSTRAINT_UNIQUE")
            return { ok: false, error: new DuplicateIdError(update.id, this.#existing(update.id)) };
          throw error;
        }
      }),
    );
  }

  append(update: Update): Promise<StoredUpdate> {
    return this.#batch.add(update);
  }

  /** Commits the batch, then settles its appends in call order (acknowledged means committed). */
  #store(batch: readonly PendingAppend[]): void {
    const time = Date.now();
    let results: RowResult[];
    try {
      if (!this.#db.open) throw new Error("the SQLite store is closed");
      results = this.#commit(batch, time);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    const outcomes = batch.map((pending, i) => {
      const result = results[i];
      if (result === undefined) return new Error("the SQLite store lost an append");
      return result.ok ? storedUpdate(pending.update, result.seq, time) : result.error;
    });
    settleBatch(batch, outcomes, this.#onAppended);
  }

  onAppended(listener: ((batch: readonly StoredUpdate[]) => void) | undefined): void {
    this.#onAppended = listener;
  }

  async after(lastEventId: string, limit: number, maxBytes = Number.POSITIVE_INFINITY): Promise<AfterResult> {
    if (lastEventId === "earliest")
      return { kind: "found", updates: await this.afterSeq(0, limit, maxBytes) };
    const row = this.#seqOf.get(lastEventId);
    if (row === undefined) return { kind: "unknown-id", updates: await this.afterSeq(0, limit, maxBytes) };
    return { kind: "found", updates: await this.afterSeq(row.seq, limit, maxBytes) };
  }

  async afterSeq(
    seq: number,
    limit: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<readonly StoredUpdate[]> {
    // Row by row, so that rows past the byte bound are never read.
    const page: StoredUpdate[] = [];
    let bytes = 0;
    for (const row of this.#bySeq.iterate(seq, limit)) {
      page.push(fromRow(row));
      bytes += row.data.length;
      if (bytes >= maxBytes) break;
    }
    return page;
  }

  #existing(id: string): StoredUpdate | undefined {
    const row = this.#byId.get(id);
    return row === undefined ? undefined : fromRow(row);
  }

  async lastEventId(): Promise<string> {
    return this.#last.get()?.id ?? "earliest";
  }

  async lastPublicEventId(): Promise<string> {
    return this.#lastPublic.get()?.id ?? "earliest";
  }

  async prune(now = Date.now()): Promise<number> {
    const byCount = this.#pruneCount.run(this.limits.maxEvents).changes;
    const byAge = this.#pruneAge.run(now - this.limits.maxAgeMs).changes;
    return byCount + byAge;
  }

  async close(): Promise<void> {
    this.#batch.flush();
    await this.#checkpointer?.close();
    if (this.#db.open) this.#db.close();
  }
}
