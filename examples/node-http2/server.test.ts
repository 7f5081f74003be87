import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createParser, type ParsedEvent } from "ssekit/protocol";
import { channel, start } from "./server.js";

test(
  "node:http2 example: an HTTP/2 client over TLS receives events, and no connection header",
  { timeout: 20_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "ssekit-h2-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-days",
        "1",
        "-keyout",
        join(dir, "k"),
        "-out",
        join(dir, "c"),
      ],
      { stdio: "ignore" },
    );
    const server = start(readFileSync(join(dir, "k")), readFileSync(join(dir, "c")));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const client = connect(`https://localhost:${port}`, {
      ca: readFileSync(join(dir, "c")),
      host: "127.0.0.1",
      servername: "localhost",
    });
    client.on("error", () => {});
    try {
      const stream = client.request({ ":path": "/", "last-event-id": "nope" });
      const [headers] = (await once(stream, "response")) as [Record<string, string>];
      assert.equal(headers[":status"], 200);
      assert.equal(headers["content-type"], "text/event-stream; charset=utf-8");
      assert.equal(headers.connection, undefined);
      const events: ParsedEvent[] = [];
      const got = new Promise<void>((resolve) => {
        const parser = createParser({
          onEvent: (e) => {
            events.push(e);
            if (events.length === 2) resolve();
          },
        });
        stream.on("data", (chunk: Buffer) => parser.feed(chunk));
      });
      // Wait for the first bytes, so the session has joined the channel.
      await once(stream, "data");
      channel.broadcast({ data: "one" });
      channel.broadcast({ event: "two", data: "2" });
      await got;
      assert.deepEqual(
        events.map((e) => [e.type, e.data]),
        [
          ["message", "one"],
          ["two", "2"],
        ],
      );
      stream.close();
    } finally {
      client.close();
      client.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
