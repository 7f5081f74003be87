/**
 * Publish capacity of a server with no subscribers: a closed loop over raw keep-alive TCP
 * connections, each sending its next publish as soon as the previous one is answered, for a fixed
 * time. Raw sockets instead of node:http keep the generator's own cost per request low, so the
 * figure is the server's and not the generator's (the fan-out runs publish through node:http,
 * whose client tops out at about 20,000 requests/s on a shared 2-core machine). Not responsible for
 * starting servers or for latency.
 */
import { connect } from "node:net";
import type { Target } from "./target.js";

export interface CapacityResult {
  readonly acknowledgedPerSecond: number;
  readonly failed: number;
  readonly firstError?: string;
}

/** Length of the first complete response in `buffer` (headers and Content-Length body), or -1. */
function responseLength(buffer: string): number {
  const headEnd = buffer.indexOf("\r\n\r\n");
  if (headEnd === -1) return -1;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(buffer.slice(0, headEnd));
  const total = headEnd + 4 + Number(length?.[1] ?? 0);
  return buffer.length >= total ? total : -1;
}

export async function publishCapacity(
  target: Target,
  topics: readonly string[],
  durationMs: number,
  connections = 64,
): Promise<CapacityResult> {
  let acknowledged = 0;
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = performance.now();
  const ends = started + durationMs;
  const loop = () =>
    new Promise<void>((resolve) => {
      const socket = connect(target.port, target.host);
      socket.setNoDelay(true);
      let buffer = "";
      const send = () => {
        if (performance.now() >= ends) {
          socket.destroy();
          resolve();
          return;
        }
        const topic = topics[next++ % topics.length] ?? "";
        socket.write(target.publishRequest(topic, String(Date.now())));
      };
      socket.on("connect", send);
      socket.on("data", (chunk: Buffer) => {
        buffer += chunk.toString("latin1");
        for (let length = responseLength(buffer); length !== -1; length = responseLength(buffer)) {
          if (/^HTTP\/1\.1 2/.test(buffer)) acknowledged++;
          else {
            failed++;
            firstError ??= buffer.slice(0, buffer.indexOf("\r\n"));
          }
          buffer = buffer.slice(length);
          send();
        }
      });
      socket.on("error", (error) => {
        failed++;
        firstError ??= error.message;
        resolve();
      });
      socket.on("close", () => resolve());
    });
  await Promise.all(Array.from({ length: connections }, loop));
  const seconds = (performance.now() - started) / 1000;
  return { acknowledgedPerSecond: acknowledged / seconds, failed, firstError };
}
