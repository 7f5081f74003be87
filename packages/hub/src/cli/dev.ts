/**
 * `ssekit hub --dev`: development defaults (anonymous subscribers, SQLite under ./data, a signing
 * key when none is configured) and the start-up banner with a ready-to-use publisher JWT,
 * subscriber JWT and commands. The key is random, made once and kept in the hub's data folder
 * (`data/dev-jwt-key`, readable by its owner only), so tokens minted for a dev hub keep working
 * when it restarts. Not responsible for starting the hub.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CliUsageError } from "./errors.js";
import { DEFAULT_HUB_URL } from "./hub-url.js";
import type { Layer } from "./layers.js";
import type { ResolvedSettings } from "./resolve.js";
import { stringSetting } from "./resolve.js";
import { isHmacAlgorithm, mintToken } from "./tokens.js";

export const DEV_STORE = "sqlite:./data/ssekit-hub.db";
/** The dev key's file name, in the folder of the SQLite store (else ./data). */
export const DEV_KEY_FILE = "dev-jwt-key";

/** The development signing key and where it is kept. */
export interface DevKey {
  readonly key: string;
  readonly file: string;
  /** Made by this run (the file did not exist). */
  readonly created: boolean;
}

export interface DevDefaults {
  readonly layer: Layer;
  /** The kept development key, when the user configured none. */
  readonly devKey?: DevKey;
}

/** Where a dev hub keeps its key: next to its SQLite file, else in ./data. */
export function devKeyFile(configured: ResolvedSettings): string {
  const store = stringSetting(configured, "store") ?? DEV_STORE;
  const path = store.startsWith("sqlite:") ? store.slice("sqlite:".length) : "";
  const folder = path === "" || path === ":memory:" ? "./data" : dirname(path);
  return join(folder, DEV_KEY_FILE);
}

// 64 bytes: long enough for HS512, the longest key RFC 7518 asks of an HMAC algorithm.
const KEY_BYTES = 64;
const KEY_TEXT = /^[A-Za-z0-9_-]{86}$/;

/** Where `npm start` (a --dev hub on its default store) keeps its key, relative to the folder it runs in. */
export const DEFAULT_DEV_KEY_FILE = join("data", DEV_KEY_FILE);

/** The key a --dev hub kept in `file`, if there is one (nothing is created). */
export function readDevKey(file: string = DEFAULT_DEV_KEY_FILE): string | undefined {
  try {
    const kept = readFileSync(file, "utf8").trim();
    return KEY_TEXT.test(kept) ? kept : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the kept key from `file`, or makes one and keeps it there (mode 0600). */
export function loadDevKey(file: string): DevKey {
  const read = (): string | undefined => {
    try {
      return readFileSync(file, "utf8").trim();
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") return undefined;
      throw keyFileError(file, error);
    }
  };
  const kept = read();
  if (kept !== undefined) {
    if (!KEY_TEXT.test(kept))
      throw new CliUsageError(
        "BAD_CONFIG_FILE",
        `${file}: not a key this hub made (${KEY_BYTES} random bytes, base64url); delete the file to make a new one`,
      );
    return { key: kept, file, created: false };
  }
  const key = randomBytes(KEY_BYTES).toString("base64url");
  try {
    mkdirSync(dirname(file), { recursive: true });
    // "wx": a hub starting at the same moment made it first; use that one.
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as { code?: unknown }).code === "EEXIST") return { ...loadDevKey(file), created: false };
    throw keyFileError(file, error);
  }
  return { key, file, created: true };
}

function keyFileError(file: string, error: unknown): CliUsageError {
  const reason = error instanceof Error ? error.message : String(error);
  return new CliUsageError(
    "BAD_CONFIG_FILE",
    `${file}: cannot keep the development key there (${reason}); set --jwt-key or MERCURE_JWT_KEY instead`,
  );
}

/**
 * The `--dev` layer, given what flags, environment and config file already set. `keyFrom` gives
 * the development key kept in a file (default: `loadDevKey`).
 */
export function devDefaults(
  configured: ResolvedSettings,
  keyFrom: (file: string) => DevKey = loadDevKey,
): DevDefaults {
  const layer: Layer = {
    anonymous: { value: true, origin: { kind: "dev" } },
    store: { value: DEV_STORE, origin: { kind: "dev" } },
  };
  const hasPublisherKey = configured.publisherJwtKey !== undefined || configured.jwksUrl !== undefined;
  if (hasPublisherKey) return { layer };
  const devKey = keyFrom(devKeyFile(configured));
  layer.publisherJwtKey = { value: devKey.key, origin: { kind: "dev" } };
  if (configured.subscriberJwtKey === undefined) {
    layer.subscriberJwtKey = { value: devKey.key, origin: { kind: "dev" } };
  }
  return { layer, devKey };
}

/** The banner printed once after a `--dev` hub is listening. */
export async function devBanner(
  url: string,
  settings: ResolvedSettings,
  devKey: DevKey | undefined,
): Promise<string> {
  const hubUrl = `${url.replace(/\/$/, "")}/.well-known/mercure`;
  // pub and sub default to http://localhost:3000: name the hub only when that is not this one.
  const listening = new URL(hubUrl);
  const isDefault =
    listening.protocol === "http:" &&
    listening.port === new URL(DEFAULT_HUB_URL).port &&
    ["localhost", "127.0.0.1", "[::1]"].includes(listening.hostname);
  const hubFlag = isDefault ? "" : ` --hub ${hubUrl}`;
  const lines: string[] = [
    "",
    "ssekit hub (development mode): anonymous subscribers allowed",
    `  web console: ${url.replace(/\/$/, "")}/`,
  ];
  if (devKey !== undefined) {
    lines.push(
      `  JWT key (HS256): ${devKey.created ? "made and kept" : "kept"} in ${devKey.file}, so tokens stay valid across restarts`,
    );
  }
  const publisherKey = stringSetting(settings, "publisherJwtKey");
  const subscriberKey = stringSetting(settings, "subscriberJwtKey");
  const pubAlg = stringSetting(settings, "publisherJwtAlg") ?? "HS256";
  const subAlg = stringSetting(settings, "subscriberJwtAlg") ?? "HS256";
  const day = 24 * 3_600_000;
  if (publisherKey !== undefined && isHmacAlgorithm(pubAlg)) {
    const token = await mintToken({ key: publisherKey, publish: ["*"], alg: pubAlg, ttlMs: day });
    lines.push(
      `  publisher JWT (publish to every topic, 24h): ${token}`,
      "",
      "  publish:",
      `    curl -d 'topic=https://example.com/books/1' -d 'data={"title":"SSE"}' \\`,
      `      -H 'Authorization: Bearer ${token}' ${hubUrl}`,
    );
  }
  if (subscriberKey !== undefined && isHmacAlgorithm(subAlg)) {
    const token = await mintToken({ key: subscriberKey, subscribe: ["*"], alg: subAlg, ttlMs: day });
    lines.push(`  subscriber JWT (every topic, private ones too, 24h): ${token}`);
  }
  lines.push(
    "",
    "  subscribe:",
    `    curl -N '${hubUrl}?topic=${encodeURIComponent("https://example.com/books/{id}")}'`,
    "",
    "  or with the ssekit command (no key to copy: pub asks this --dev hub for a token):",
    `    npx ssekit sub 'https://example.com/books/{id}'${hubFlag}`,
    `    npx ssekit pub https://example.com/books/1 '{"title":"SSE"}'${hubFlag}`,
    "",
  );
  return lines.join("\n");
}
