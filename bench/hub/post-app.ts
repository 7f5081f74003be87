/**
 * An app built on ssekit/server as an app developer would write it, for the server section's
 * publish-by-request scenario: a plain node:http server with one `createChannel()`, where
 * `GET /events` joins the channel (`createSession`) and `POST /publish` reads a JSON body (about
 * 100 bytes), checks that it parses and broadcasts it as the event's data, answering 204. It runs
 * in a child process started as the hub is, and is a benchmark `Target`, so that the same
 * subscriber processes and the same publisher measure it and the hub side by side. Run as a
 * script it is that app; imported, `startPostApp` starts it.
 */
import { Agent, createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { createChannel, createSession } from "ssekit/server";
import { listenInChild, startChildServer, stopChild } from "./child-server.js";
import { httpPost, type Target } from "./target.js";

const SCRIPT = fileURLToPath(import.meta.url);

function serve(): void {
  const channel = createChannel();
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/events") {
      channel.add(createSession(req, res));
      return;
    }
    if (req.method !== "POST" || req.url !== "/publish") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        JSON.parse(text);
      } catch {
        res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("the body must be JSON\n");
        return;
      }
      channel.broadcast({ data: text });
      res.writeHead(204).end();
    });
  });
  server.maxConnections = 100_000;
  listenInChild(server, "post app");
}

/** Starts the app; `publish(topic, data)` POSTs `data` (the topic is ignored: the app has one channel). */
export async function startPostApp(
  name = "ssekit/server app",
  nodeFlags: readonly string[] = [],
): Promise<Target> {
  const { child, url } = await startChildServer(
    [process.execPath, ...nodeFlags, "--conditions=ssekit-source", "--import", "tsx", SCRIPT],
    /listening on (\S+)/,
    "post app",
  );
  const host = url.hostname;
  const port = Number(url.port);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const headers = { "content-type": "application/json" };
  return {
    name,
    host,
    port,
    subscribePath: () => "/events",
    publish: (_topic, data) => httpPost(agent, { host, port, path: "/publish" }, headers, data),
    publishRequest: (_topic, data) =>
      `POST /publish HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(data)}\r\n\r\n${data}`,
    pids: () => (child.pid === undefined ? [] : [child.pid]),
    async stop() {
      agent.destroy();
      await stopChild(child);
    },
  };
}

if (process.argv[1] === SCRIPT) serve();
