/**
 * WAL checkpoints of the SQLite store on a worker thread with its own connection (PASSIVE, on an
 * interval), so that no commit on the event loop pays for one; a commit is durable once in the WAL
 * either way. Not responsible for reads or writes (sqlite.ts).
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** The worker, as CommonJS source: it loads better-sqlite3 from the path the main thread resolved. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma("busy_timeout = 5000");
const checkpoint = () => {
  try {
    const [result] = db.pragma("wal_checkpoint(PASSIVE)");
    parentPort.postMessage({ type: "done", frames: result.log, checkpointed: result.checkpointed });
  } catch (error) {
    parentPort.postMessage({ type: "error", message: String(error && error.message) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message !== "close") return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/** What one checkpoint did: WAL frames, and how many of them are now in the database file. */
export interface CheckpointResult {
  readonly frames: number;
  readonly checkpointed: number;
}

type WorkerMessage =
  | ({ readonly type: "done" } & CheckpointResult)
  | { readonly type: "error"; readonly message: string };

export class Checkpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;

  /**
   * Starts checkpointing the WAL of the database at `path` (which must exist) every `intervalMs`.
   * `onError` hears about a checkpoint that failed (`stopped` false: the next one tries again) or
   * a worker that could not start or died (`stopped` true: the store must checkpoint by itself);
   * `onCheckpoint` hears about each checkpoint done.
   */
  constructor(
    path: string,
    intervalMs: number,
    onError: (message: string, stopped: boolean) => void,
    onCheckpoint?: (result: CheckpointResult) => void,
  ) {
    const module = createRequire(import.meta.url).resolve("better-sqlite3");
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, path, intervalMs } });
    this.#worker.on("message", (message: WorkerMessage) => {
      if (message.type === "error") onError(message.message, false);
      else onCheckpoint?.({ frames: message.frames, checkpointed: message.checkpointed });
    });
    this.#worker.on("error", (error) => onError(error.message, true));
    this.#exited = new Promise((resolve) => this.#worker.once("exit", () => resolve()));
    // An embedder that never closes the store must still be able to exit.
    this.#worker.unref();
  }

  /** Runs a last checkpoint and stops the worker. */
  async close(): Promise<void> {
    // Referenced again so that the process waits for the last checkpoint.
    this.#worker.ref();
    this.#worker.postMessage("close");
    await this.#exited;
  }
}
