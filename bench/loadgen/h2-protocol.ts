/**
 * The messages between h2-pool.ts and its HTTP/2 load-generator processes (h2-worker.ts), over
 * the Node IPC channel. Kept apart from the worker so that the pool can import the types without
 * running it.
 */

export interface H2Load {
  /**
   * Where to connect: `http://host:port` for cleartext HTTP/2 with prior knowledge (h2c), or
   * `https://host:port` for HTTP/2 over TLS (the certificate is not checked: bench certificates
   * are self-signed).
   */
  readonly origin: string;
  /** Request paths (with query); stream i of a connection requests paths[i % paths.length]. */
  readonly paths: readonly string[];
  /** HTTP/2 connections to open. */
  readonly connections: number;
  /** Event-stream requests (streams) on each connection. */
  readonly streamsPerConnection: number;
}

export type ToH2Worker =
  | ({ readonly type: "connect" } & H2Load)
  | {
      readonly type: "snapshot";
      /** The last sequence number published so far: a stream that saw 1..expect in order is complete. */
      readonly expect: number;
    }
  | { readonly type: "close" };

export type FromH2Worker =
  | { readonly type: "ready" }
  | {
      readonly type: "connected";
      /** HTTP/2 connections whose every stream settled (answered, refused or failed). */
      readonly sessions: number;
      /** Streams answered 200 with `text/event-stream`. */
      readonly open: number;
      /** Streams refused, reset or failed before their response. */
      readonly failed: number;
      readonly firstError?: string;
    }
  | ({ readonly type: "snapshot" } & H2Counts);

/** What the streams of one process (or, summed, of the pool) received so far. */
export interface H2Counts {
  /** Streams open now (answered 200 and not closed since). */
  readonly open: number;
  /** Streams that closed or failed after their response. */
  readonly closed: number;
  /** `data:` lines holding a sequence number, over every stream. */
  readonly events: number;
  /** Streams that received exactly 1, 2, ..., expect, in order, with nothing missing or repeated. */
  readonly complete: number;
  /** Streams that received a number other than the next one expected (a gap, a repeat, a reorder). */
  readonly outOfOrder: number;
  /** Stream and connection errors since the start, and the first one's message. */
  readonly errors: number;
  readonly firstError?: string;
}
