/**
 * What the hub benchmark needs from a server under test (the ssekit hub, or Nchan): where to
 * subscribe, how to publish, which processes hold its memory, how to stop it. Also the shared
 * helpers to find a free port and read a process tree's resident memory from /proc.
 */
import { readFileSync } from "node:fs";
import { type Agent, request } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface Target {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** The request path (with query) subscribing to one topic. */
  subscribePath(topic: string): string;
  /** Publishes `data` to `topic`; resolves when the server acknowledged it. */
  publish(topic: string, data: string): Promise<void>;
  /** The same publish as one raw keep-alive HTTP/1.1 request, for raw-socket load. */
  publishRequest(topic: string, data: string): string;
  /** The server's process ids, whose resident memory is the server's memory. */
  pids(): readonly number[];
  stop(): Promise<void>;
}

export { freePort } from "../../packages/ssekit/test/support/free-port.js";

function rssKiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter((s) => s !== "")
      .map(Number);
  } catch {
    return [];
  }
}

/** Resident memory in bytes of the processes and all their descendants (Linux only; 0 elsewhere). */
export function treeRssBytes(pids: readonly number[]): number {
  let total = 0;
  const stack = [...pids];
  for (let pid = stack.pop(); pid !== undefined; pid = stack.pop()) {
    total += rssKiB(pid) * 1024;
    stack.push(...children(pid));
  }
  return total;
}

/** A POST over a keep-alive agent (HTTPS when it is an https.Agent); resolves on a 2xx answer, rejects otherwise. */
export function httpPost(
  agent: Agent,
  url: { host: string; port: number; path: string },
  headers: Readonly<Record<string, string>>,
  body: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = (agent instanceof HttpsAgent ? httpsRequest : request)(
      {
        host: url.host,
        port: url.port,
        path: url.path,
        method: "POST",
        agent,
        headers: { ...headers, "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`HTTP ${status}`));
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
