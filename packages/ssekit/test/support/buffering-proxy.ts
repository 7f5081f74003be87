/**
 * A reverse proxy that buffers response bodies, as nginx with `proxy_buffering on` and many
 * corporate proxies do: the status and headers go to the client at once, the body bytes only once
 * 32 KiB have gathered (or the response ends). An event stream through it looks open but silent,
 * which is what the client's polling fallback exists for. Loopback only; records request URLs.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** Bytes held back before the proxy passes a response body on (nginx's default buffers are 32 KiB). */
export const PROXY_BUFFER_BYTES = 32 * 1024;

export interface BufferingProxy {
  readonly origin: string;
  /** Request URLs (path and query) in arrival order. */
  readonly requests: string[];
  /** Resolves once `count` requests whose URL satisfies `predicate` have arrived (counting earlier ones). */
  waitForRequests(predicate: (url: string) => boolean, count?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a buffering proxy on 127.0.0.1 in front of `upstream` (an origin such as http://127.0.0.1:1234). */
export async function startBufferingProxy(upstream: string): Promise<BufferingProxy> {
  const target = new URL(upstream);
  const requests: string[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? "/");
    for (const waiter of [...waiters]) waiter();
    const upstreamRequest = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (upstreamResponse) => {
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        res.flushHeaders();
        let held: Buffer[] = [];
        let size = 0;
        const release = () => {
          if (held.length > 0) res.write(Buffer.concat(held));
          held = [];
          size = 0;
        };
        upstreamResponse.on("data", (chunk: Buffer) => {
          held.push(chunk);
          size += chunk.length;
          if (size >= PROXY_BUFFER_BYTES) release();
        });
        upstreamResponse.on("end", () => {
          release();
          res.end();
        });
        upstreamResponse.on("error", () => res.destroy());
      },
    );
    upstreamRequest.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end("bad gateway\n");
    });
    res.on("close", () => upstreamRequest.destroy());
    req.pipe(upstreamRequest);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    waitForRequests(predicate, count = 1) {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (requests.filter(predicate).length >= count) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
      });
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
