// The browser bundle of ssekit/client: esbuild with platform "browser" must resolve everything
// (a `node:` import anywhere in src/client or src/protocol fails the build), and the result
// must not mention `node:` at all. The same holds for the shared worker script (ssekit/client/shared-worker).
import assert from "node:assert/strict";
import { test } from "node:test";
import { bundleClient, bundleSharedWorker } from "../support/browser.js";

test("src/client bundles for the browser with no node: import", { timeout: 30000 }, async () => {
  const code = await bundleClient();
  assert.ok(code.includes("EventSource"), "the bundle contains the client");
  assert.doesNotMatch(code, /["']node:/, "the browser bundle must not import node: modules");
});

test(
  "the shared worker script bundles for the browser with no node: import",
  { timeout: 30000 },
  async () => {
    const code = await bundleSharedWorker();
    assert.match(code, /SharedWorkerGlobalScope/, "the bundle installs itself in a shared worker");
    assert.match(code, /text\/event-stream/, "the bundle contains the connection");
    assert.doesNotMatch(code, /["']node:/, "the worker bundle must not import node: modules");
  },
);
