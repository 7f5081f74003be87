// The bytes on the wire of an event stream: raw TCP clients read what the hub writes directly to
// HTTP/1.1 sockets (one chunk per frame, corked per turn of the event loop) and check the chunked
// framing strictly; an HTTP/1.0 client gets the same events unframed; `eventsource` reads the same stream.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { Collector, type Started, startHub } from "../support/hub-support.js";

let started: Started;
before(async () => {
  started = await startHub({ anonymous: true });
});
after(() => started.hub.close());

/** A raw HTTP client: sends `request`, collects every byte until the server closes or `done`. */
class RawClient {
  readonly socket: Socket;
  #bytes = Buffer.alloc(0);
  #waiters: { done: (bytes: Buffer) => boolean; resolve: () => void }[] = [];
  readonly closed: Promise<void>;

  constructor(port: number, request: string) {
    this.socket = connect(port, "127.0.0.1", () => this.socket.write(request));
    this.socket.on("data", (chunk: Buffer) => {
      this.#bytes = Buffer.concat([this.#bytes, chunk]);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.done(this.#bytes)) return true;
        w.resolve();
        return false;
      });
    });
    this.closed = new Promise((resolve) => this.socket.on("close", () => resolve()));
  }

  get text(): string {
    return this.#bytes.toString("latin1");
  }

  until(done: (bytes: Buffer) => boolean): Promise<void> {
    if (done(this.#bytes)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ done, resolve }));
  }
}

/** Splits a response into its head and its body decoded from strict chunked framing. */
function dechunk(raw: string): { head: string; body: string; ended: boolean } {
  const headEnd = raw.indexOf("\r\n\r\n");
  assert.ok(headEnd !== -1, "no end of headers");
  let at = headEnd + 4;
  let body = "";
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", at);
    if (lineEnd === -1) return { head: raw.slice(0, headEnd), body, ended: false };
    const sizeText = raw.slice(at, lineEnd);
    assert.match(sizeText, /^[0-9a-f]+$/, `bad chunk size line ${JSON.stringify(sizeText)}`);
    const size = Number.parseInt(sizeText, 16);
    if (size === 0) {
      assert.equal(raw.slice(lineEnd, lineEnd + 4), "\r\n\r\n", "terminating chunk not closed");
      return { head: raw.slice(0, headEnd), body, ended: true };
    }
    const dataEnd = lineEnd + 2 + size;
    if (raw.length < dataEnd + 2) return { head: raw.slice(0, headEnd), body, ended: false };
    body += raw.slice(lineEnd + 2, dataEnd);
    assert.equal(raw.slice(dataEnd, dataEnd + 2), "\r\n", "chunk data not followed by CRLF");
    at = dataEnd + 2;
  }
}

const port = () => Number(new URL(started.url).port);

describe("event stream sink", () => {
  test("updates published in one turn of the event loop arrive as valid chunks, in order", async () => {
    const raw = new RawClient(port(), "GET /.well-known/mercure?topic=/burst HTTP/1.1\r\nHost: hub\r\n\r\n");
    const viaFetch = new Collector(`${started.endpoint}?topic=/burst`);
    try {
      await Promise.all([raw.until((b) => b.includes("retry: ")), viaFetch.opened()]);
      const total = 500;
      await Promise.all(
        Array.from({ length: total }, (_, i) => started.hub.publish({ topics: ["/burst"], data: String(i) })),
      );
      await raw.until((b) => dechunk(b.toString("latin1")).body.includes("data: 499\n"));
      const { head, body } = dechunk(raw.text);
      assert.match(head, /^HTTP\/1\.1 200/);
      assert.match(head, /\r\ntransfer-encoding: chunked/i);
      const data = [...body.matchAll(/^data: (\d+)$/gm)].map((m) => Number(m[1]));
      assert.deepEqual(
        data,
        Array.from({ length: total }, (_, i) => i),
      );
      await viaFetch.waitFor(total);
      assert.deepEqual(
        viaFetch.events.map((e) => Number(e.data)),
        data,
      );
    } finally {
      raw.socket.destroy();
      viaFetch.close();
    }
  });

  test("close() writes the retry hint, then ends the chunked body with the last chunk", async () => {
    const hub = await startHub({ anonymous: true });
    const raw = new RawClient(
      Number(new URL(hub.url).port),
      "GET /.well-known/mercure?topic=/end HTTP/1.1\r\nHost: hub\r\n\r\n",
    );
    try {
      await raw.until((b) => b.includes("retry: "));
      await hub.hub.publish({ topics: ["/end"], data: "last" });
      await hub.hub.close({ retryMs: 4321 });
      await raw.until((b) => dechunk(b.toString("latin1")).ended);
      const { body } = dechunk(raw.text);
      assert.ok(body.endsWith("data: last\n\nretry: 4321\n\n"), JSON.stringify(body));
    } finally {
      raw.socket.destroy();
      await hub.hub.close();
    }
  });

  test("an HTTP/1.0 client gets the events without chunked framing", async () => {
    const raw = new RawClient(port(), "GET /.well-known/mercure?topic=/old HTTP/1.0\r\n\r\n");
    try {
      await raw.until((b) => b.includes("retry: "));
      const id = await started.hub.publish({ topics: ["/old"], data: "plain" });
      await raw.until((b) => b.includes("data: plain\n\n"));
      const [head = "", body = ""] = raw.text.split("\r\n\r\n");
      assert.match(head, /^HTTP\/1\.[01] 200/);
      assert.doesNotMatch(head, /transfer-encoding/i);
      assert.ok(body.endsWith(`id: ${id.id}\ndata: plain\n\n`), JSON.stringify(body));
    } finally {
      raw.socket.destroy();
    }
  });
});
