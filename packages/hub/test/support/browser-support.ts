/**
 * Shared pieces of the hub's browser tests: launching the system Chromium (ssekit's test launcher,
 * never a downloaded browser), saving screenshots under test-output/, a self-signed certificate
 * (tls-support.ts), a TCP proxy that can drop every connection to simulate a network outage, and
 * reading the hub's figures from /metrics. Not a test file itself.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../../ssekit/test/support/browser.js";
import { type HubProcess, startHub } from "./cli-process.js";

/** The system Chromium, launched by the one launcher both packages' browser tests share. */
export function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  return launchChromium(extraArgs);
}

const OUTPUT = fileURLToPath(new URL("../../../../test-output/screenshots/", import.meta.url));

/** Saves a 1280x800 screenshot of `page` as test-output/screenshots/NAME.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(OUTPUT, { recursive: true });
  const path = join(OUTPUT, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

export { type Certificate, selfSignedCertificate } from "./tls-support.js";

export interface DroppingProxy {
  /** The proxy's base URL, to open pages on. */
  readonly url: string;
  /** Destroys every open connection and refuses new ones until `restore()`. */
  drop(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A TCP proxy to `target` (host:port) on 127.0.0.1 that can simulate a network outage. */
export async function droppingProxy(targetPort: number): Promise<DroppingProxy> {
  const sockets = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    drop() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      down = false;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sums of every sample of each metric in a Prometheus text exposition. */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) values.set(match[1], (values.get(match[1]) ?? 0) + value);
  }
  return values;
}

/** The metric counting open subscriber connections; the first name present wins. */
const CONNECTION_METRICS = ["ssekit_hub_connections", "ssekit_hub_subscribers"];

/** How many subscriber connections the hub at `metricsText` reports open. */
export function openConnections(metricsText: string): number {
  const metrics = parseMetrics(metricsText);
  for (const name of CONNECTION_METRICS) {
    const value = metrics.get(name);
    if (value !== undefined) return value;
  }
  throw new Error(`no connection gauge (${CONNECTION_METRICS.join(", ")}) in /metrics:\n${metricsText}`);
}

export const DEV_KEY = "browser-test-key-browser-test-key-0123456789";

/** A publisher JWT for every topic, signed with DEV_KEY. */
export function publisherJwt(): Promise<string> {
  return new SignJWT({ mercure: { publish: ["*"] } })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(DEV_KEY));
}

/**
 * Publishes `data` on `topic` to the Mercure endpoint `mercure` (http or https; `ca` trusts a
 * self-signed certificate) and returns the update's id.
 */
export async function publishTo(mercure: string, topic: string, data: string, ca?: string): Promise<string> {
  const body = new URLSearchParams({ topic, data }).toString();
  const headers = {
    authorization: `Bearer ${await publisherJwt()}`,
    "content-type": "application/x-www-form-urlencoded",
    "content-length": Buffer.byteLength(body),
  };
  const send = mercure.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(mercure, { method: "POST", headers, ca }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () =>
        res.statusCode === 200
          ? resolve(text.trim())
          : reject(new Error(`publish to ${mercure} answered ${res.statusCode}: ${text}`)),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** GETs `url` (http or https, `ca` as above) and resolves with the body. */
export function getText(url: string, ca?: string): Promise<string> {
  const send = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { ca }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The hub's open subscriber connections, read from its /metrics. */
export async function connectionsAt(hubUrl: string, ca?: string): Promise<number> {
  return openConnections(await getText(`${hubUrl}/metrics`, ca));
}

/** The `ssekit hub` arguments for a development hub on 127.0.0.1 with DEV_KEY and a SQLite file. */
export function devHubArgs(dbPath: string, port = 0): string[] {
  return [
    "--dev",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--store",
    `sqlite:${dbPath}`,
    "--jwt-key",
    DEV_KEY,
    "--log-level",
    "silent",
  ];
}

/**
 * For the suite it is called in: a development hub (`devHubArgs`, SQLite in a temp folder named
 * after `prefix`) and a browser, started before its tests and stopped after them. The getters
 * throw when read before the suite started them.
 */
export function devHubAndBrowser(prefix: string): { readonly hub: HubProcess; readonly browser: Browser } {
  let dir = "";
  let hub: HubProcess | undefined;
  let browser: Browser | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    hub = await startHub(devHubArgs(join(dir, "hub.db")), { cwd: dir });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await hub?.kill("SIGTERM");
    await hub?.kill();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });
  return {
    get hub() {
      if (hub === undefined) throw new Error("the development hub is not started yet");
      return hub;
    },
    get browser() {
      if (browser === undefined) throw new Error("the browser is not launched yet");
      return browser;
    },
  };
}
