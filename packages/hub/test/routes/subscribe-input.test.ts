// Bad subscribe and poll queries (routes/selectors.ts): each is 400 with a one-line reason naming
// the parameter, instead of a stream the client did not ask for.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { assertRefused, startEdgeHub } from "../support/edge-support.js";
import { Collector, publishOk, type Started } from "../support/hub-support.js";

let started: Started;
before(async () => {
  started = await startEdgeHub();
});
after(() => started.hub.close());

describe("subscribe queries", () => {
  const sub = (query: string) => fetch(`${started.endpoint}?${query}`);

  test("a malformed percent escape or an escape of non-UTF-8 bytes is 400 naming the parameter", async () => {
    await assertRefused(
      await sub("topic=%zz"),
      400,
      /query parameter "topic" has a malformed percent escape/,
    );
    await assertRefused(await sub("topic=%ff"), 400, /query parameter "topic" is not UTF-8/);
  });

  test("a poll parameter other than 1 is 400 instead of opening a stream", async () => {
    await assertRefused(
      await sub("topic=/a&poll=true"),
      400,
      /"poll" must be 1 to poll, or left out to stream \(got "true"\)/,
    );
  });

  test("a selector with a control character is 400", async () => {
    await assertRefused(await sub("match=%01a"), 400, /"match" must not contain control characters/);
  });

  test("a last event id with a control character is 400 instead of replaying the whole history", async () => {
    await assertRefused(
      await sub("topic=/a&lastEventID=%0Aid"),
      400,
      /"lastEventID" must not contain control/,
    );
    await assertRefused(
      await sub("topic=/a&last_event_id=%00"),
      400,
      /"last_event_id" must not contain control/,
    );
    await assertRefused(
      await sub("topic=/a&poll=1&timeout=0&lastEventID=%0Aid"),
      400,
      /"lastEventID" must not contain control/,
    );
  });

  test("a parameter in the reserved match namespace that names no matcher type is 400", async () => {
    await assertRefused(await sub("topic=/a&matchRegex=.*"), 400, /unknown selector parameter "matchRegex"/);
    await assertRefused(await sub("MATCH=/a"), 400, /unknown selector parameter "MATCH"/);
  });

  test("matchExact and matchURLPattern select like match and match_urlpattern", async () => {
    const exact = new Collector(`${started.endpoint}?matchExact=/spelled/exact`);
    const pattern = new Collector(
      `${started.endpoint}?matchURLPattern=${encodeURIComponent("/spelled/:id")}`,
    );
    try {
      await Promise.all([exact.opened(), pattern.opened()]);
      await publishOk(started.endpoint, { topic: "/spelled/exact", data: "e" });
      await Promise.all([exact.waitFor(1), pattern.waitFor(1)]);
      assert.equal(exact.events[0]?.data, "e");
      assert.equal(pattern.events[0]?.data, "e");
    } finally {
      exact.close();
      pattern.close();
    }
  });

  test("more than 200 selectors, or a selector longer than 2048 characters, is 400 with the bound", async () => {
    const many = Array.from({ length: 201 }, (_, i) => `match=/m/${i}`).join("&");
    await assertRefused(await sub(many), 400, /at most 200/);
    await assertRefused(await sub(`match=/${"x".repeat(2048)}`), 400, /at most 2048/);
    const poll = await fetch(`${started.endpoint}?poll=1&timeout=0&${many}`);
    await assertRefused(poll, 400, /at most 200/);
  });
});
