/**
 * One load-generator process: opens raw TCP event-stream subscribers (HTTP/1.1 GET, no real
 * parsing), counts events by scanning for "\n\n" and reads a publish timestamp from each event's
 * data for publish-to-receive latency. Driven over IPC by pool.ts. Kept light so that the server
 * under test, in its own process, is what is measured.
 */
import { connect, type Socket } from "node:net";

type Command =
  | {
      readonly type: "connect";
      readonly host: string;
      readonly port: number;
      readonly path: string;
      readonly count: number;
      readonly localAddress?: string;
    }
  | { readonly type: "snapshot" }
  | { readonly type: "close" };

const BUCKET_MS = 0.25;
const BUCKETS = 40_000; // 10 s
let histogram = new Uint32Array(BUCKETS);
let events = 0;
let errors = 0;
let firstError: string | undefined;
const sockets: Socket[] = [];
const DATA = Buffer.from("data:");
const now = () => performance.timeOrigin + performance.now();

function onData(chunk: Buffer): void {
  const t = now();
  let i: number;
  // An event ends at "\n\n"; the chunk framing of HTTP never splits our small events in two reads often
  // enough to matter for counting, and a split one is still counted at its end.
  for (i = chunk.indexOf("\n\n"); i !== -1; i = chunk.indexOf("\n\n", i + 2)) {
    const d = chunk.lastIndexOf(DATA, i);
    if (d !== -1 && chunk.lastIndexOf(":\n", i) !== i - 1) {
      const ts = Number(chunk.toString("latin1", d + 5, chunk.indexOf(10, d)));
      if (ts > 0) {
        events++;
        const bucket = Math.min(BUCKETS - 1, Math.max(0, Math.floor((t - ts) / BUCKET_MS)));
        histogram[bucket] = (histogram[bucket] ?? 0) + 1;
      }
    }
  }
}

function open(cmd: Extract<Command, { type: "connect" }>): Promise<number> {
  return new Promise((resolve) => {
    let pending = cmd.count;
    let opened = 0;
    const request = Buffer.from(
      `GET ${cmd.path} HTTP/1.1\r\nHost: ${cmd.host}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    const done = () => {
      if (--pending === 0) resolve(opened);
    };
    let started = 0;
    const startSome = () => {
      // Open in small waves so the server's accept queue is not flooded.
      const wave = Math.min(200, cmd.count - started);
      for (let k = 0; k < wave; k++) {
        started++;
        const socket = connect({ host: cmd.host, port: cmd.port, localAddress: cmd.localAddress });
        let seen = false;
        socket.on("connect", () => socket.write(request));
        socket.on("data", (chunk: Buffer) => {
          if (!seen) {
            seen = true;
            opened++;
            done();
          }
          onData(chunk);
        });
        socket.on("error", (error) => {
          errors++;
          firstError ??= error.message;
          if (!seen) {
            seen = true;
            done();
          }
        });
        sockets.push(socket);
      }
      if (started < cmd.count) setTimeout(startSome, 5);
    };
    if (cmd.count === 0) resolve(0);
    else startSome();
  });
}

process.on("message", async (cmd: Command) => {
  if (cmd.type === "connect") {
    const opened = await open(cmd);
    process.send?.({ type: "connected", opened, errors, firstError });
  } else if (cmd.type === "snapshot") {
    process.send?.({ type: "snapshot", events, histogram: Array.from(histogram), errors, firstError });
    events = 0;
    histogram = new Uint32Array(BUCKETS);
  } else {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
process.send?.({ type: "ready" });
