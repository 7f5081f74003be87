/**
 * The bare baseline for publish capacity: a plain node:http server, in a child process started as
 * the hub is (`node --import tsx`, open-file limit raised), that reads a publish exactly as a
 * Mercure publisher sends it (`application/x-www-form-urlencoded`: `topic` repeatable, `data`,
 * `id`, `private`, `type`, `retry`), keeps nothing, and answers 200 with an id (the given one, or
 * a fresh `urn:uuid:`). It is sent the hub's very request, bearer token included, but checks no
 * token. No authentication, validation, storage or fan-out: what any Node server
 * pays to read that form and answer, against which the hub's figure is a ratio. Run as a script it
 * is that server; imported, `startFormServer` runs it as a benchmark `Target`.
 */
import { randomUUID } from "node:crypto";
import { Agent, createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { listenInChild, startChildServer, stopChild } from "./child-server.js";
import { httpPost, type Target } from "./target.js";

const SCRIPT = fileURLToPath(import.meta.url);
const PATH = "/.well-known/mercure";

function serve(): void {
  const server = createServer((req, res) => {
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const update = {
        topics: form.getAll("topic"),
        data: form.get("data") ?? "",
        private: form.get("private") !== null,
        type: form.get("type") ?? undefined,
        retry: form.get("retry") ?? undefined,
        id: form.get("id") ?? `urn:uuid:${randomUUID()}`,
      };
      if (update.topics.length === 0) {
        res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("missing topic\n");
        return;
      }
      const id = update.id;
      res.writeHead(200, {
        "content-type": "text/plain; charset=utf-8",
        "content-length": Buffer.byteLength(id),
      });
      res.end(id);
    });
  });
  listenInChild(server, "form server");
}

/** `nodeFlags`: flags for node itself, such as `--cpu-prof`. */
export async function startFormServer(
  name = "bare node:http form server",
  nodeFlags: readonly string[] = [],
): Promise<Target> {
  const { child, url } = await startChildServer(
    [process.execPath, ...nodeFlags, "--conditions=ssekit-source", "--import", "tsx", SCRIPT],
    /listening on (\S+)/,
    "form server",
  );
  const host = url.hostname;
  const port = Number(url.port);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  // The same request as the hub's, token included (read by node's parser here too, then ignored).
  const token = await new SignJWT({ mercure: { publish: ["*"] } })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode("bare-server-ignores-this-key-0123456789"));
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" };
  return {
    name,
    host,
    port,
    subscribePath: () => PATH,
    publish: (topic, data) =>
      httpPost(agent, { host, port, path: PATH }, headers, new URLSearchParams({ topic, data }).toString()),
    publishRequest: (topic, data) => {
      const body = new URLSearchParams({ topic, data }).toString();
      return `POST ${PATH} HTTP/1.1\r\nHost: ${host}:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    },
    pids: () => (child.pid === undefined ? [] : [child.pid]),
    async stop() {
      agent.destroy();
      await stopChild(child);
    },
  };
}

if (process.argv[1] === SCRIPT) serve();
