/**
 * The browser bundles the console and demos import (ssekit/client, its shared worker,
 * ssekit/protocol): prebuilt files from `dist/ui/` when present, else bundled with esbuild on first
 * request and kept in memory. Not responsible for HTTP (ui.ts serves them).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/**
 * The bundles by the file name pages import them as, and the module each one re-exports (the
 * shared worker exports nothing: its bundle is the worker script that `shared: { worker }` starts).
 */
export const BUNDLES: Readonly<Record<string, string>> = {
  "ssekit-client.js": "ssekit/client",
  "ssekit-protocol.js": "ssekit/protocol",
  "ssekit-shared-worker.js": "ssekit/client/shared-worker",
};

export class UiBundleError extends Error {
  readonly code = "UI_BUNDLE_UNAVAILABLE";
  constructor(message: string) {
    super(message);
    this.name = "UiBundleError";
  }
}

const PACKAGE_DIR = fileURLToPath(new URL("../..", import.meta.url));
const PREBUILT_DIR = fileURLToPath(new URL("../../dist/ui/", import.meta.url));
/** Running from src/*.ts (npm start, tests): always bundle the current sources. */
const FROM_SOURCE = import.meta.url.endsWith(".ts");

const cache = new Map<string, Promise<string>>();

/** Bundles `specifier` for browsers with esbuild (a development dependency). */
export async function bundleModule(specifier: string): Promise<string> {
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch {
    throw new UiBundleError(
      `cannot bundle ${specifier} for the browser: esbuild is not installed; run "npm run build:ui" or install esbuild`,
    );
  }
  const result = await esbuild.build({
    stdin: { contents: `export * from ${JSON.stringify(specifier)};`, resolveDir: PACKAGE_DIR, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: FROM_SOURCE ? ["ssekit-source"] : [],
    write: false,
    logLevel: "silent",
    legalComments: "none",
  });
  const output = result.outputFiles[0];
  if (!output) throw new UiBundleError(`esbuild produced no output for ${specifier}`);
  return output.text;
}

async function load(name: string, specifier: string): Promise<string> {
  if (!FROM_SOURCE) {
    try {
      return await readFile(`${PREBUILT_DIR}${name}`, "utf8");
    } catch {
      // Not prebuilt: bundle below.
    }
  }
  return bundleModule(specifier);
}

/** The source of bundle `name` (a key of BUNDLES), or undefined when there is no such bundle. */
export function bundle(name: string): Promise<string> | undefined {
  const specifier = BUNDLES[name];
  if (specifier === undefined) return undefined;
  let pending = cache.get(name);
  if (!pending) {
    pending = load(name, specifier);
    // A failed build is not cached, so fixing the cause and reloading the page is enough.
    pending.catch(() => cache.delete(name));
    cache.set(name, pending);
  }
  return pending;
}

/**
 * Writes every bundle into `dir` (default: the package's dist/ui/), so that a hub installed
 * without esbuild can serve them. Run by `npm run build:ui`. Resolves with the files written.
 */
export async function writeBundles(dir: string = PREBUILT_DIR): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, specifier] of Object.entries(BUNDLES)) {
    const path = `${dir.replace(/\/?$/, "/")}${name}`;
    await writeFile(path, await bundleModule(specifier));
    written.push(path);
  }
  return written;
}
