/**
 * The messages between the benchmark and its subscriber processes (over the Node IPC channel).
 * Kept apart from subscriber-process.ts so that the parent can import the types without running it.
 */

export type ToSubscriber =
  | {
      readonly cmd: "connect";
      readonly host: string;
      readonly port: number;
      /** Request paths (with query); connection i requests paths[i % paths.length]. */
      readonly paths: readonly string[];
      readonly count: number;
      /** Source addresses to spread connections over (each gives its own ephemeral ports). */
      readonly localAddresses: readonly string[];
      /** Connections opened at once; more wait for these to get their response headers. */
      readonly concurrency: number;
    }
  | { readonly cmd: "snapshot" }
  | { readonly cmd: "close" };

export type FromSubscriber =
  | {
      readonly type: "connected";
      readonly open: number;
      readonly failed: number;
      readonly firstError?: string;
    }
  | {
      readonly type: "snapshot";
      readonly open: number;
      readonly events: number;
      readonly histogram: readonly number[];
    };
