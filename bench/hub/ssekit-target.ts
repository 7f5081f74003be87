/**
 * Runs the ssekit hub for the benchmark exactly as users do (`ssekit hub`, memory store unless told,
 * anonymous subscribers; HTTPS with HTTP/2 when given a certificate) in a child process with the
 * open-file limit raised, and publishes to it over keep-alive HTTP(S) with a publisher JWT. Not responsible for measuring.
 */
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { startChildServer, stopChild } from "./child-server.js";
import { httpPost, type Target } from "./target.js";

const CLI = fileURLToPath(new URL("../../packages/hub/src/cli.ts", import.meta.url));
const KEY = "bench-key-bench-key-bench-key-0123456789";

export interface SsekitHubOptions {
  /**
   * Serve HTTPS (HTTP/2, with HTTP/1.1 for the publisher) with this certificate and key, through
   * the hub's `--tls-cert` and `--tls-key` flags; the publisher does not check the certificate.
   * Default: plain HTTP/1.1.
   */
  readonly tls?: { readonly certPath: string; readonly keyPath: string };
  /** `--store`. Default: `memory`. */
  readonly store?: string;
  /** `--workers` (needs a redis:// store). Default: one process. */
  readonly workers?: number;
  /** The name in tables. Default: "ssekit hub". */
  readonly name?: string;
  /** More `ssekit hub` flags, such as `--history-max-events 200000`. */
  readonly flags?: readonly string[];
  /** Flags for node itself, such as `--cpu-prof` to profile the hub. Default: none. */
  readonly nodeFlags?: readonly string[];
}

export async function startSsekitHub(options: SsekitHubOptions = {}): Promise<Target> {
  const tls =
    options.tls === undefined ? [] : ["--tls-cert", options.tls.certPath, "--tls-key", options.tls.keyPath];
  const { child, url } = await startChildServer(
    [
      process.execPath,
      ...(options.nodeFlags ?? []),
      "--conditions=ssekit-source",
      "--import",
      "tsx",
      CLI,
      "hub",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--store",
      options.store ?? "memory",
      ...(options.workers === undefined ? [] : ["--workers", String(options.workers)]),
      "--jwt-key",
      KEY,
      "--anonymous",
      "--log-level",
      "error",
      ...tls,
      ...(options.flags ?? []),
    ],
    /ssekit hub listening on (\S+)/,
    "ssekit hub",
  );
  const token = await new SignJWT({ mercure: { publish: ["*"] } })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(KEY));
  const agent =
    options.tls === undefined
      ? new Agent({ keepAlive: true, maxSockets: 64 })
      : new HttpsAgent({ keepAlive: true, maxSockets: 64, rejectUnauthorized: false });
  const host = url.hostname;
  const port = Number(url.port);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" };
  return {
    name: options.name ?? "ssekit hub",
    host,
    port,
    subscribePath: (topic) => `/.well-known/mercure?topic=${encodeURIComponent(topic)}`,
    publish: (topic, data) =>
      httpPost(
        agent,
        { host, port, path: "/.well-known/mercure" },
        headers,
        new URLSearchParams({ topic, data }).toString(),
      ),
    // Plain HTTP only: the raw-socket capacity load does not speak TLS.
    publishRequest: (topic, data) => {
      const body = new URLSearchParams({ topic, data }).toString();
      return `POST /.well-known/mercure HTTP/1.1\r\nHost: ${host}:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    },
    pids: () => (child.pid === undefined ? [] : [child.pid]),
    async stop() {
      agent.destroy();
      await stopChild(child);
    },
  };
}
