// The UI routes on a real node:http server: pages, assets, the browser bundles, the development
// token (only in dev mode, only to loopback clients) and the simulated ticker.
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { jwtVerify } from "jose";
import { startTicker, type TickerUpdate } from "../../src/cli/ticker.js";
import { createUiRoutes, type UiHandler } from "../../src/routes/ui.js";

async function serve(handler: UiHandler): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (!handler(req, res)) {
      res.writeHead(418, { "content-type": "text/plain" });
      res.end("not a UI route\n");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

/** A GET with a chosen Host header (fetch does not let us set it). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const KEY = "a-development-key-of-enough-length-for-hs256";

describe("UI routes", () => {
  let plain: { server: Server; url: string };
  let dev: { server: Server; url: string };
  before(async () => {
    plain = await serve(createUiRoutes());
    dev = await serve(createUiRoutes({ devToken: { key: KEY } }));
  });
  after(() => {
    plain.server.close();
    dev.server.close();
    plain.server.closeAllConnections();
    dev.server.closeAllConnections();
  });

  test("serves the console and both demo pages as HTML", async () => {
    for (const [path, marker] of [
      ["/", "/assets/console.js"],
      ["/demo/notifications", "/assets/notifications.js"],
      ["/demo/live", "/assets/live.js"],
    ] as const) {
      const response = await fetch(`${plain.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
      assert.ok((await response.text()).includes(marker), `${path} loads ${marker}`);
    }
  });

  test("serves assets with their content types and refuses names outside ui/assets", async () => {
    const css = await fetch(`${plain.url}/assets/style.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
    const js = await fetch(`${plain.url}/assets/chart.js`);
    assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.ok((await js.text()).includes("export class LineChart"));
    assert.equal((await fetch(`${plain.url}/assets/%2e%2e%2fpackage.json`)).status, 404);
    assert.equal((await fetch(`${plain.url}/assets/missing.js`)).status, 404);
  });

  test("leaves other paths to the hub", async () => {
    for (const path of ["/.well-known/mercure", "/metrics", "/healthz", "/demo/unknown"]) {
      assert.equal((await fetch(`${plain.url}${path}`)).status, 418, path);
    }
  });

  test("answers HEAD without a body and refuses other methods with 405", async () => {
    const head = await fetch(`${plain.url}/`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const post = await fetch(`${plain.url}/`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
  });

  test("bundles ssekit/protocol for the browser as an ES module without node: imports", async () => {
    const response = await fetch(`${plain.url}/assets/ssekit-protocol.js`);
    assert.equal(response.status, 200);
    const source = await response.text();
    assert.match(source, /export\s*\{[^}]*createParser/);
    assert.doesNotMatch(source, /from\s*["']node:/);
    // The bundle really parses: load it as a module and feed it a stream.
    const mod = (await import(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`)) as {
      createParser: typeof import("ssekit/protocol").createParser;
    };
    const seen: string[] = [];
    const parser = mod.createParser({ onEvent: (e) => seen.push(`${e.type}:${e.data}`) });
    parser.feed("event: tick\ndata: 1\n\ndata: 2\n\n");
    assert.deepEqual(seen, ["tick:1", "message:2"]);
  });

  test("bundles ssekit/client for the browser: EventSource exported, no node: imports", async () => {
    const response = await fetch(`${plain.url}/assets/ssekit-client.js`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/javascript/);
    const source = await response.text();
    assert.match(source, /export\s*\{[^}]*\bEventSource\b/);
    assert.doesNotMatch(source, /from\s*["']node:/);
    assert.doesNotMatch(source, /require\(["']node:/);
  });

  test("serves the client's shared worker as one self-contained script with no node: imports", async () => {
    const response = await fetch(`${plain.url}/assets/ssekit-shared-worker.js`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/javascript/);
    const source = await response.text();
    assert.match(source, /addEventListener\("connect"/);
    assert.doesNotMatch(source, /^\s*import\s/m, "a worker script must not import other modules");
    assert.doesNotMatch(source, /from\s*["']node:/);
    assert.doesNotMatch(source, /require\(["']node:/);
  });

  test("does not hand out a development token unless the hub is in dev mode", async () => {
    const response = await fetch(`${plain.url}/ui/dev-token`);
    assert.equal(response.status, 404);
    assert.match(await response.text(), /--dev/);
  });

  test("hands loopback clients in dev mode a token that publishes and subscribes everywhere", async () => {
    const response = await fetch(`${dev.url}/ui/dev-token`);
    assert.equal(response.status, 200);
    const { token, expiresAt } = (await response.json()) as { token: string; expiresAt: number };
    assert.ok(expiresAt > Date.now());
    const { payload } = await jwtVerify(token, new TextEncoder().encode(KEY));
    assert.deepEqual(payload.mercure, { publish: ["*"], subscribe: ["*"] });
  });

  test("refuses the development token to a request naming a non-loopback host (DNS rebinding)", async () => {
    const rebound = await getWithHost(`${dev.url}/ui/dev-token`, "attacker.example:80");
    assert.equal(rebound.status, 403);
    assert.match(rebound.body, /loopback/);
    const localhost = await getWithHost(`${dev.url}/ui/dev-token`, "localhost:3000");
    assert.equal(localhost.status, 200);
  });
});

describe("ticker", () => {
  test("publishes every symbol on its own topic with increasing sequence numbers", async () => {
    // The ticker's timer is unref'd (it must not keep a hub alive); this keeps the test's loop alive.
    const keepAlive = setInterval(() => {}, 1000);
    const updates: TickerUpdate[] = [];
    let stop = () => {};
    const enough = new Promise<void>((resolve) => {
      const ticker = startTicker({
        symbols: { AAA: 10, BBB: 200 },
        intervalMs: 5,
        publish(update) {
          updates.push(update);
          if (updates.length === 6) resolve();
        },
      });
      stop = () => ticker.stop();
    });
    await enough;
    stop();
    clearInterval(keepAlive);
    const bySymbol = new Map<string, { seq: number; price: number; run: string }[]>();
    for (const update of updates) {
      const tick = JSON.parse(update.data) as { symbol: string; price: number; seq: number; run: string };
      assert.equal(update.topic, `demo/prices/${tick.symbol}`);
      assert.ok(tick.price > 0);
      bySymbol.set(tick.symbol, [...(bySymbol.get(tick.symbol) ?? []), tick]);
    }
    assert.deepEqual([...bySymbol.keys()].sort(), ["AAA", "BBB"]);
    for (const ticks of bySymbol.values()) {
      assert.deepEqual(
        ticks.map((t) => t.seq),
        ticks.map((_, i) => i + 1),
      );
      assert.equal(new Set(ticks.map((t) => t.run)).size, 1);
    }
  });
});
