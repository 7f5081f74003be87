/**
 * Browser helpers for client tests (reusable by anyone): launching the system Chromium through
 * playwright-core (never a downloaded browser), bundling `ssekit/client` for the browser with
 * esbuild into memory, and injecting that bundle into a page as `globalThis.ssekit`.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/**
 * Launches headless Chromium with the flags this project's tests use (the one launcher of both
 * packages' browser tests). `ignoreDefaultArgs` drops some of playwright's own flags, such as
 * `--disable-back-forward-cache` for tests of the back/forward cache. Close it in `after`.
 */
export function launchChromium(
  extraArgs: readonly string[] = [],
  options: { readonly ignoreDefaultArgs?: string[] } = {},
): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    ...(options.ignoreDefaultArgs === undefined ? {} : { ignoreDefaultArgs: options.ignoreDefaultArgs }),
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...extraArgs,
    ],
  });
}

const CLIENT_ENTRY = fileURLToPath(new URL("../../src/client/index.ts", import.meta.url));
const SHARED_WORKER_ENTRY = fileURLToPath(new URL("../../src/client/shared-worker.ts", import.meta.url));

/** Bundles `entry` for `platform: "browser"` as ESM, in memory; fails on any `node:` import. */
async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    target: "es2022",
    logLevel: "silent",
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error(`esbuild produced no output for ${entry}`);
  return file.text;
}

/** src/client/index.ts as one ES module for browsers. */
export function bundleClient(): Promise<string> {
  return bundleForBrowser(CLIENT_ENTRY);
}

/** src/client/shared-worker.ts as the module a page loads with `new SharedWorker(url, { type: "module" })`. */
export function bundleSharedWorker(): Promise<string> {
  return bundleForBrowser(SHARED_WORKER_ENTRY);
}

/** The client bundled as a classic script that sets `globalThis.ssekit` to the module's exports. */
export async function bundleClientGlobal(): Promise<string> {
  const result = await build({
    entryPoints: [CLIENT_ENTRY],
    bundle: true,
    write: false,
    platform: "browser",
    format: "iife",
    globalName: "ssekit",
    target: "es2022",
    logLevel: "silent",
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error("esbuild produced no output for src/client/index.ts");
  return file.text;
}

/** Injects `bundleClientGlobal()`'s output into `page` (call after each navigation). */
export async function injectClient(page: Page, bundle: string): Promise<void> {
  await page.addScriptTag({ content: bundle });
}
