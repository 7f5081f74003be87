// The published declarations: `tsc -p tsconfig.build.json` (stripInternal) leaves `@internal`
// members out, and what is left type-checks for a consumer with library checking on.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildDeclarations, type Declarations } from "./support/declarations.js";

let built: Declarations;
before(async () => {
  built = await buildDeclarations({ redis: false });
});
after(async () => {
  await built?.remove();
});

describe("published types of ssekit", { timeout: 120_000 }, () => {
  test("leave @internal members out", async () => {
    const files = await built.files("ssekit");
    assert.ok(
      files.has("server/index.d.ts") && files.has("client/index.d.ts") && files.has("protocol/index.d.ts"),
    );
    const session = files.get("server/session.d.ts") ?? "";
    assert.match(session, /\bclass Session\b/);
    assert.match(session, /\bsend\(/);
    // No constructor for consumers: with an @internal one left out, `new Session()` would type-check.
    assert.match(session, /\bprivate constructor\(\);/);
    // Session.clientClosed, and the channels' detach and onNextEvent, are @internal.
    for (const [path, text] of files) assert.doesNotMatch(text, /\bclientClosed\b/, path);
    for (const path of ["server/channel.d.ts", "server/bus-channel.d.ts"]) {
      assert.match(files.get(path) ?? "", /\bbroadcast\(/, path);
      assert.doesNotMatch(files.get(path) ?? "", /\bdetach\(|\bonNextEvent\(/, path);
    }
  });

  test("type-check a consumer, which cannot reach the internal members or the test hooks", async () => {
    await built.check(`
import { createServer } from "node:http";
import { createParser, encode, type ParsedEvent } from "ssekit/protocol";
import * as server from "ssekit/server";
import { chunkFrame } from "ssekit/server/http1";
import { EventSource, events } from "ssekit/client";

const channel = server.createChannel({ history: 10 });
createServer((req, res) => {
  const session = server.createSession(req, res);
  channel.add(session);
  session.send({ data: encode({ data: "hi" }) });
  // @ts-expect-error @internal: the transport reports a client that went away
  session.clientClosed();
  // @ts-expect-error @internal: a closing session leaves its channels
  channel.detach(session);
});
// @ts-expect-error a test hook, not exported
server.activeHeartbeatTimers();
// @ts-expect-error sessions are made by createSession and its siblings, never with new
void new server.Session();
// @ts-expect-error @internal: the factory behind createSession
server.Session.open;
const isSession = (value: unknown): value is server.Session => value instanceof server.Session;
void isSession;
const seen: ParsedEvent[] = [];
createParser({ onEvent: (event) => seen.push(event) }).feed("data: x\\n\\n");
const source = new EventSource("http://127.0.0.1:1/", { fallback: "poll" });
source.close();
void events;
void chunkFrame;
`);
  });
});
