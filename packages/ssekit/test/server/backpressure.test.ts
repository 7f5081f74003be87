import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { describe, test } from "node:test";
import { createChannel, createSession, type Session } from "../../src/server/index.js";
import { heapAfterGc } from "../support/heap.js";
import { Collected, listen, RawClient } from "./support.js";

const KIB = "x".repeat(1024);
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("Backpressure", () => {
  test(
    "a client that never reads is disconnected once its buffer passes the bound, and the heap returns to its level",
    { timeout: 60_000 },
    async () => {
      const channel = createChannel();
      const joined = new Collected<Session>();
      const sockets: Socket[] = [];
      const server = await listen((req, res) => {
        sockets.push(req.socket);
        // 1 MiB: ten times what the test writes per turn, so the reader that keeps up stays under it.
        const session = createSession(req, res, { maxBufferedBytes: 1_048_576 });
        channel.add(session);
        joined.push(session);
      });
      // A reader that keeps up: it shows the channel goes on serving others.
      const healthy = new RawClient(server.port, "/");
      const stuck = connect(server.port, "127.0.0.1");
      try {
        const [healthySession] = await joined.until(1);
        // Warm up the same code paths first, so the baseline already holds what they allocate once.
        for (let i = 1; i <= 5000; i++) {
          channel.broadcast({ data: KIB });
          if (i % 100 === 0) await healthy.events.until(i);
        }
        healthy.events.items.length = 0;
        stuck.on("error", () => {});
        stuck.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        stuck.pause();
        const stuckSession = (await joined.until(2))[1];
        assert.ok(healthySession && stuckSession);
        const baseline = heapAfterGc();
        let sent = 0;
        let closed: string | undefined;
        void stuckSession.closed.then((reason) => {
          closed = reason;
        });
        // Bounded: at most 100 MB offered, far beyond socket buffers.
        while (closed === undefined && sent < 100_000) {
          for (let i = 0; i < 100; i++) channel.broadcast({ data: KIB });
          sent += 100;
          await healthy.events.until(sent);
        }
        assert.ok(closed, `not disconnected after ${sent} events`);
        assert.equal(closed, "backpressure");
        const stuckSocket = sockets[1];
        assert.ok(stuckSocket);
        if (!stuckSocket.closed) await once(stuckSocket, "close");
        sockets.length = 0;
        assert.equal(healthySession.isOpen, true);
        assert.equal(channel.size, 1);
        // The reader that keeps up got everything.
        await healthy.events.until(sent);
        // The test's own copy of what was received is not the server's memory.
        healthy.events.items.length = 0;
        const after = heapAfterGc();
        assert.ok(sent * 1024 > 2 * 1_048_576, `sent only ${sent} KiB`);
        assert.ok(after - baseline < 4 * 1024 * 1024, `heap grew by ${after - baseline} bytes`);
        console.log(`disconnected after ${sent} KiB offered; heap delta ${after - baseline} bytes`);
      } finally {
        healthy.close();
        stuck.destroy();
        await server.close();
      }
    },
  );

  test(
    "drop-oldest keeps the session, drops the oldest events, says so with a comment, and delivers the newest",
    { timeout: 60_000 },
    async () => {
      const channel = createChannel();
      const joined = new Collected<Session>();
      const server = await listen((req, res) => {
        const session = createSession(req, res, { maxBufferedBytes: 65_536, onBackpressure: "drop-oldest" });
        channel.add(session);
        joined.push(session);
      });
      const client = new RawClient(server.port, "/");
      try {
        await client.comments.until(1);
        client.socket.pause();
        await joined.until(1);
        const TOTAL = 30_000; // 30 MB: more than the kernel's socket buffers hold
        const baseline = heapAfterGc();
        for (let n = 1; n <= TOTAL; n++) {
          channel.broadcast({ data: KIB, id: String(n) });
          if (n % 100 === 0) await turn();
        }
        const during = heapAfterGc();
        assert.ok(during - baseline < 4 * 1024 * 1024, `heap grew by ${during - baseline} bytes while stuck`);
        client.socket.resume();
        const all = await new Promise<string[]>((resolve) => {
          const check = () => {
            const last = client.events.items.at(-1);
            if (last?.lastEventId === String(TOTAL)) resolve(client.events.items.map((e) => e.lastEventId));
            else void client.events.until(client.events.items.length + 1).then(check);
          };
          check();
        });
        assert.ok(all.length < TOTAL, "some events were dropped");
        const ids = all.map(Number);
        assert.ok(
          ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? 0)),
          "ids increase",
        );
        assert.ok(client.comments.items.some((c) => /^ssekit dropped \d+ events$/.test(c)));
        assert.equal(joined.items[0]?.isOpen, true);
      } finally {
        client.close();
        await server.close();
      }
    },
  );
});
