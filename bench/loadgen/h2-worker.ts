/**
 * One HTTP/2 load-generator process: opens C connections with node:http2 `connect()` (h2c with
 * prior knowledge, or TLS without certificate checks), S `text/event-stream` requests on each, and
 * checks that every stream receives the bench's broadcast sequence 1, 2, 3, ... in order, reading
 * only `data:` lines that hold a number. Driven over IPC by h2-pool.ts (messages in
 * h2-protocol.ts). Not an SSE parser: it relies on the bench's own one-line data, and it measures
 * nothing about time.
 */
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from "node:http2";
import type { FromH2Worker, H2Counts, ToH2Worker } from "./h2-protocol.js";

const LF = 10;
const CR = 13;
const DATA_PREFIX = [100, 97, 116, 97, 58]; // "data:"
/** A connection whose streams have not all been answered within this time counts them as failed. */
const SETTLE_TIMEOUT_MS = 120_000;
/** Connections opened at once by this process; the others wait for these to settle. */
const CONNECTION_CONCURRENCY = 4;

let errors = 0;
let firstError: string | undefined;
const sessions: ClientHttp2Session[] = [];
const streams: StreamCheck[] = [];

function noteError(message: string): void {
  errors++;
  firstError ??= message;
}

/**
 * One stream's sequence check, byte by byte without allocation: `data:` lines holding a number
 * are compared with the number expected next.
 */
class StreamCheck {
  open = true;
  /** The last sequence number received, 0 before any. */
  last = 0;
  outOfOrder = false;
  events = 0;
  /** Index into "data:" while matching, 5 in the value, 6 when the line is ignored. */
  #match = 0;
  #value = 0;
  #digits = 0;

  feed(buf: Buffer): void {
    for (let i = 0; i < buf.length; i++) {
      const byte = buf[i] ?? 0;
      if (byte === LF || byte === CR) {
        if (this.#match === 5 && this.#digits > 0) this.#number(this.#value);
        this.#match = 0;
        this.#value = 0;
        this.#digits = 0;
      } else if (this.#match < 5) {
        this.#match = byte === DATA_PREFIX[this.#match] ? this.#match + 1 : 6;
      } else if (this.#match === 5) {
        if (byte >= 48 && byte <= 57) {
          this.#value = this.#value * 10 + (byte - 48);
          this.#digits++;
        } else if (!(byte === 32 && this.#digits === 0)) {
          this.#match = 6;
        }
      }
    }
  }

  #number(n: number): void {
    this.events++;
    if (n !== this.last + 1) this.outOfOrder = true;
    this.last = n;
  }
}

interface Settled {
  open: number;
  failed: number;
}

function openStream(session: ClientHttp2Session, path: string, settled: Settled): Promise<void> {
  return new Promise((resolve) => {
    let answered = false;
    const fail = (reason: string) => {
      if (answered) return;
      answered = true;
      settled.failed++;
      noteError(reason);
      resolve();
    };
    let stream: ClientHttp2Stream;
    try {
      stream = session.request({ ":path": path, accept: "text/event-stream" });
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
      return;
    }
    const check = new StreamCheck();
    stream.on("response", (headers) => {
      const status = headers[":status"];
      const type = String(headers["content-type"] ?? "");
      if (status !== 200 || !type.startsWith("text/event-stream")) {
        fail(`stream answered ${status} ${type}`);
        stream.close();
        return;
      }
      answered = true;
      settled.open++;
      streams.push(check);
      resolve();
    });
    stream.on("data", (chunk: Buffer) => check.feed(chunk));
    stream.on("error", (error: Error) => {
      if (answered) noteError(error.message);
      else fail(error.message);
    });
    stream.on("close", () => {
      if (!answered) fail(`stream closed before its response (RST code ${stream.rstCode ?? "none"})`);
      check.open = false;
    });
  });
}

async function openConnection(
  cmd: Extract<ToH2Worker, { type: "connect" }>,
  settled: Settled,
): Promise<boolean> {
  const session = connect(cmd.origin, {
    rejectUnauthorized: false,
    // Until the server's SETTINGS arrive, allow as many streams as this connection will open.
    peerMaxConcurrentStreams: cmd.streamsPerConnection,
    // The generator must not be what refuses streams: lift the client's 10 MB per-connection bound.
    maxSessionMemory: 1_000,
  });
  sessions.push(session);
  session.on("error", (error) => noteError(`connection: ${error.message}`));
  session.on("goaway", (code) => noteError(`connection: GOAWAY ${code}`));
  const all = Promise.all(
    Array.from({ length: cmd.streamsPerConnection }, (_, i) =>
      openStream(session, cmd.paths[i % cmd.paths.length] ?? "/", settled),
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), SETTLE_TIMEOUT_MS);
  });
  const ok = await Promise.race([all.then(() => true), timedOut]);
  clearTimeout(timer);
  if (!ok) noteError(`connection: streams not answered within ${SETTLE_TIMEOUT_MS} ms`);
  return ok;
}

async function connectAll(cmd: Extract<ToH2Worker, { type: "connect" }>): Promise<FromH2Worker> {
  const settled: Settled = { open: 0, failed: 0 };
  let next = 0;
  let complete = 0;
  const worker = async () => {
    while (next < cmd.connections) {
      next++;
      if (await openConnection(cmd, settled)) complete++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECTION_CONCURRENCY, cmd.connections) }, worker));
  return { type: "connected", sessions: complete, open: settled.open, failed: settled.failed, firstError };
}

function counts(expect: number): H2Counts {
  let open = 0;
  let events = 0;
  let complete = 0;
  let outOfOrder = 0;
  for (const s of streams) {
    if (s.open) open++;
    events += s.events;
    if (s.outOfOrder) outOfOrder++;
    else if (s.last === expect) complete++;
  }
  return { open, closed: streams.length - open, events, complete, outOfOrder, errors, firstError };
}

function send(message: FromH2Worker): void {
  process.send?.(message);
}

process.on("message", (raw: unknown) => {
  const message = raw as ToH2Worker;
  switch (message.type) {
    case "connect":
      void connectAll(message).then(send);
      break;
    case "snapshot":
      send({ type: "snapshot", ...counts(message.expect) });
      break;
    case "close":
      for (const session of sessions) session.destroy();
      process.exit(0);
  }
});
send({ type: "ready" });
