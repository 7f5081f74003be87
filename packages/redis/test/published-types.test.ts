// The published declarations of @ssekit/redis, built on those of ssekit: `@internal` declarations
// are left out, and a consumer of both packages type-checks with library checking on.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildDeclarations, type Declarations } from "../../ssekit/test/support/declarations.js";

let built: Declarations;
before(async () => {
  built = await buildDeclarations({ redis: true });
});
after(async () => {
  await built?.remove();
});

describe("published types of @ssekit/redis", { timeout: 180_000 }, () => {
  test("leave @internal declarations out", async () => {
    const files = await built.files("@ssekit/redis");
    const tail = files.get("tail.d.ts") ?? "";
    assert.match(tail, /\bclass Tail\b/);
    // No constructors for consumers: with @internal ones left out, `new Tail()` would type-check.
    assert.match(tail, /\bprivate constructor\(\);/);
    assert.match(files.get("log.d.ts") ?? "", /\bprivate constructor\(\);/);
    // TailSource (what a tail needs from its log) is @internal.
    for (const [path, text] of files) assert.doesNotMatch(text, /\bTailSource\b/, path);
  });

  test("type-check a consumer of @ssekit/redis and ssekit/server", async () => {
    await built.check(`
import { createRedisLog, DuplicateIdError, type LogEntry, RedisLog, redisChannelBus, START, Tail } from "@ssekit/redis";
import { createChannel } from "ssekit/server";

const log = createRedisLog({ redis: "redis://127.0.0.1:1", key: "updates" });
const tail = log.tail(START, (entries: readonly LogEntry[]) => {
  for (const entry of entries) void entry.id;
});
const channel = createChannel({ bus: redisChannelBus({ redis: "redis://127.0.0.1:1", key: "chat" }) });
void tail.close();
void channel;
void (new DuplicateIdError("7", "1-0") instanceof Error);
// @ts-expect-error tails are made by RedisLog.tail, never with new
void new Tail();
// @ts-expect-error logs are made by createRedisLog, never with new
void new RedisLog();
void (tail instanceof Tail && log instanceof RedisLog);
`);
  });
});
