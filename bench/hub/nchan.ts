/**
 * The Nchan baseline for the hub benchmark: finds nginx and the Nchan dynamic module, writes an
 * nginx.conf into a temporary directory (one worker, like the single ssekit hub process; a
 * publisher location and an EventSource subscriber location keyed by `?id=`), runs
 * `nginx -p DIR -c nginx.conf -g 'daemon off;'` as a child and stops it; HTTPS with HTTP/2 when
 * given a certificate. Returns undefined with
 * the reason when nginx or the module is not installed, so the benchmark can skip with a note.
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, httpPost, type Target } from "./target.js";

function findNginx(): string | undefined {
  for (const candidate of ["nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx"]) {
    try {
      execFileSync(candidate, ["-v"], { stdio: "ignore" });
      return candidate;
    } catch {
      // not here; try the next place
    }
  }
  return undefined;
}

function findNchanModule(): string | undefined {
  try {
    const files = execFileSync("dpkg", ["-L", "libnginx-mod-nchan"], { encoding: "utf8" }).split("\n");
    const module = files.find((f) => f.endsWith("ngx_nchan_module.so"));
    if (module && existsSync(module)) return module;
  } catch {
    // not a Debian system or the package is missing; try the usual places
  }
  return ["/usr/lib/nginx/modules/ngx_nchan_module.so", "/usr/local/nginx/modules/ngx_nchan_module.so"].find(
    existsSync,
  );
}

/**
 * `topic` as the `id` query parameter, with `:` and `/` left as they are (a query allows them):
 * nginx's `$arg_id` is not decoded, and Nchan's Redis script fails on a channel id holding `%`
 * ("invalid option '%A' to 'format'").
 */
function channelId(topic: string): string {
  return encodeURIComponent(topic).replace(/%3A/g, ":").replace(/%2F/g, "/");
}

export interface NchanOptions {
  /**
   * Serve HTTPS with HTTP/2 (`listen ... ssl http2`, nginx 1.22 syntax) with this certificate and
   * key, allowing `maxStreams` streams per connection (nginx's default is 128). Default: plain HTTP/1.1.
   */
  readonly tls?: { readonly certPath: string; readonly keyPath: string; readonly maxStreams: number };
  /** Keep channels in Redis (`nchan_use_redis`, `nchan_redis_url`) instead of the worker's memory. Default: memory. */
  readonly redisUrl?: string;
  /** The name in tables. Default: "Nchan (nginx, 1 worker)". */
  readonly name?: string;
  /** nginx worker processes (`worker_processes`). Default: 1. */
  readonly workers?: number;
}

/** The nginx.conf for Nchan (one worker unless told) on 127.0.0.1:port, writing only under the prefix. */
export function nchanConfig(
  modulePath: string,
  port: number,
  maxConnections: number,
  options: NchanOptions = {},
): string {
  const { tls } = options;
  // Each HTTP/2 stream takes one of nginx's worker_connections, like a connection does.
  const listen =
    tls === undefined
      ? `listen 127.0.0.1:${port};`
      : `listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${tls.certPath};
    ssl_certificate_key ${tls.keyPath};
    http2_max_concurrent_streams ${tls.maxStreams};`;
  const redis =
    options.redisUrl === undefined
      ? ""
      : `\n    nchan_use_redis on;\n    nchan_redis_url "${options.redisUrl}";`;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  return `load_module ${modulePath};
${root ? "user root root;\n" : ""}worker_processes ${options.workers ?? 1};
worker_rlimit_nofile ${maxConnections + 100};
error_log logs/error.log warn;
pid logs/nginx.pid;
events {
  worker_connections ${maxConnections};
}
http {
  access_log off;
  client_body_temp_path temp/body;
  proxy_temp_path temp/proxy;
  fastcgi_temp_path temp/fastcgi;
  uwsgi_temp_path temp/uwsgi;
  scgi_temp_path temp/scgi;
  keepalive_requests 1000000;
  server {
    ${listen}${redis}
    location = /pub {
      nchan_publisher;
      nchan_channel_id $arg_id;
      nchan_message_buffer_length 100;
    }
    location = /sub {
      nchan_subscriber eventsource;
      nchan_channel_id $arg_id;
    }
  }
}
`;
}

/** Starts of a Nchan on Redis so far in this process. */
let redisRuns = 0;

export async function startNchan(
  maxConnections: number,
  options: NchanOptions = {},
): Promise<Target | { skipped: string }> {
  const nginx = findNginx();
  if (!nginx) return { skipped: "nginx is not installed" };
  const modulePath = findNchanModule();
  if (!modulePath) return { skipped: "the Nchan module (libnginx-mod-nchan) is not installed" };
  const prefix = mkdtempSync(join(tmpdir(), "ssekit-nchan-"));
  mkdirSync(join(prefix, "logs"));
  mkdirSync(join(prefix, "temp"));
  const port = await freePort();
  writeFileSync(join(prefix, "nginx.conf"), nchanConfig(modulePath, port, maxConnections, options));
  const quoted = [nginx, "-p", `${prefix}/`, "-c", "nginx.conf", "-g", "daemon off;"]
    .map((a) => `'${a}'`)
    .join(" ");
  const child = spawn(
    "bash",
    ["-c", `ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${quoted}`],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    errors += chunk.toString("utf8");
  });
  const agent =
    options.tls === undefined
      ? new Agent({ keepAlive: true, maxSockets: 64 })
      : new HttpsAgent({ keepAlive: true, maxSockets: 64, rejectUnauthorized: false });
  const host = "127.0.0.1";
  // Channels kept in a Redis outlive the nginx that made them: each start gets channel ids of its
  // own there, so no run's subscribers are handed an earlier run's messages.
  const run = options.redisUrl === undefined ? "" : `r${process.pid}-${++redisRuns}-`;
  const id = (topic: string) => `${run}${channelId(topic)}`;
  const stop = async () => {
    agent.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      child.kill("SIGQUIT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(prefix, { recursive: true, force: true });
  };
  const target: Target = {
    name: options.name ?? "Nchan (nginx, 1 worker)",
    host,
    port,
    subscribePath: (topic) => `/sub?id=${id(topic)}`,
    publish: (topic, data) =>
      httpPost(agent, { host, port, path: `/pub?id=${id(topic)}` }, { "content-type": "text/plain" }, data),
    publishRequest: (topic, data) =>
      `POST /pub?id=${id(topic)} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(data)}\r\n\r\n${data}`,
    pids: () => (child.pid === undefined ? [] : [child.pid]),
    stop,
  };
  // Ready when a publish is answered.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await target.publish("ready", "0");
      return target;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        return { skipped: `nginx with Nchan did not start: ${errors.trim() || String(error)}` };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
