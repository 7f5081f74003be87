import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Http2ServerResponse } from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { H2Pool } from "./h2-pool.js";

// A plain node:http2 h2c server: GET /ok is an event stream; /skip starts its sequence at 2 on
// every stream (a missing first event); /refuse answers 503.
const streams = new Set<Http2ServerResponse>();
const server = createServer((req, res) => {
  if (req.url === "/refuse") {
    res.writeHead(503, { "content-type": "text/plain" });
    res.end("no");
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.write(":\nretry: 1000\n\n");
  if (req.url === "/skip") res.write("id: x\ndata: 2\n\n");
  streams.add(res);
  res.on("close", () => streams.delete(res));
});
function broadcast(n: number): void {
  // Split across writes, so that a line arriving in two chunks is exercised.
  for (const res of streams) {
    if (res.stream.destroyed) continue;
    res.write("id: a\nda");
    res.write(`ta: ${n}\n\n`);
  }
}
let origin = "";
let pool: H2Pool | undefined;

describe("HTTP/2 load generator", { timeout: 60_000 }, () => {
  before(async () => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await pool?.close();
    for (const res of streams) res.stream.close();
    await new Promise((resolve) => server.close(resolve));
  });

  test("counts every stream of every connection and each broadcast received in order", async () => {
    pool = await H2Pool.start(2);
    const connected = await pool.connect({
      origin,
      paths: ["/ok"],
      connections: 3,
      streamsPerConnection: 40,
    });
    assert.deepEqual(connected, { open: 120, failed: 0, sessions: 3, firstError: undefined });
    assert.equal(streams.size, 120);
    for (let n = 1; n <= 3; n++) broadcast(n);
    const { counts } = await pool.waitForComplete(3, 120, 30_000);
    assert.deepEqual(counts, {
      open: 120,
      closed: 0,
      events: 360,
      complete: 120,
      outOfOrder: 0,
      errors: 0,
      firstError: undefined,
    });
    // One more broadcast: streams that had 1..3 are not complete for 4 until it arrives.
    assert.equal((await pool.snapshot(4)).complete, 0);
    await pool.close();
    pool = undefined;
  });

  test("reports refused streams as failed and a missing event as out of order", async () => {
    pool = await H2Pool.start(2);
    const refused = await pool.connect({
      origin,
      paths: ["/refuse", "/skip"],
      connections: 2,
      streamsPerConnection: 10,
    });
    assert.equal(refused.open, 10);
    assert.equal(refused.failed, 10);
    assert.match(refused.firstError ?? "", /answered 503/);
    broadcast(3);
    let counts = await pool.snapshot(3);
    // Until both events of every /skip stream arrived (bounded by the test's timeout).
    while (counts.events < 20) {
      await new Promise((resolve) => setImmediate(resolve));
      counts = await pool.snapshot(3);
    }
    assert.equal(counts.complete, 0);
    assert.equal(counts.outOfOrder, 10);
    assert.equal(counts.events, 20);
    await pool.close();
    pool = undefined;
  });
});
