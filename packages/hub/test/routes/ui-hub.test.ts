// The UI as the hub core mounts it (createHub): pages served unless `ui: false`, the development
// token only with `dev: true`; the demo ticker is not the core's (the dev CLI runs it).
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { jwtVerify } from "jose";
import { createHub, type Hub, type HubConfigInput } from "../../src/index.js";

const SECRET = "ui-hub-test-secret-ui-hub-test-secret-0123";

describe("UI mounted by the hub", () => {
  const hubs: Hub[] = [];
  after(async () => {
    for (const hub of hubs) await hub.close({ retryMs: 0 });
  });

  async function start(input: HubConfigInput): Promise<string> {
    const hub = createHub({
      publisherKey: { alg: "HS256", secret: SECRET },
      store: { kind: "memory" },
      logger: "silent",
      heartbeatMs: 0,
      anonymous: true,
      ...input,
    });
    hubs.push(hub);
    return (await hub.listen(0, "127.0.0.1")).url;
  }

  test("in dev mode serves the pages and a development token, and publishes nothing of its own", async () => {
    const url = await start({ dev: true });
    assert.equal((await fetch(`${url}/`)).status, 200);
    assert.equal((await fetch(`${url}/demo/live`)).status, 200);
    const response = await fetch(`${url}/ui/dev-token`);
    assert.equal(response.status, 200);
    const { token } = (await response.json()) as { token: string };
    const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET));
    assert.deepEqual(payload.mercure, { publish: ["*"], subscribe: ["*"] });

    // The demo ticker is the dev CLI's (cli/ticker.ts), not the hub core's: nothing is published.
    const history = await fetch(`${url}/.well-known/mercure?poll=1&topic=*&lastEventID=earliest&timeout=0`);
    assert.deepEqual(((await history.json()) as { events: unknown[] }).events, []);
  });

  test("outside dev mode serves the pages but no development token", async () => {
    const url = await start({ dev: false });
    assert.equal((await fetch(`${url}/`)).status, 200);
    assert.equal((await fetch(`${url}/ui/dev-token`)).status, 404);
  });

  test("with ui: false serves no pages", async () => {
    const url = await start({ dev: true, ui: false });
    assert.equal((await fetch(`${url}/`)).status, 404);
    assert.equal((await fetch(`${url}/ui/dev-token`)).status, 404);
  });
});
