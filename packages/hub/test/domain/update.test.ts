// Event ids the hub chooses (domain/update.ts newEventId): UUIDv7 URNs whose time prefix grows.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { newEventId, validateUpdate } from "../../src/domain/update.js";

const UUID_V7 = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("event ids chosen by the hub", () => {
  test("are urn:uuid UUIDv7s carrying the time in milliseconds", () => {
    const now = Date.UTC(2026, 11, 1, 16, 0, 0, 123);
    const id = newEventId(now);
    assert.match(id, UUID_V7);
    assert.equal(Number.parseInt(id.slice(9, 22).replace("-", ""), 16), now);
  });

  test("sort by time, and differ within one millisecond", () => {
    const ids = [newEventId(1_000), newEventId(1_000), newEventId(2_000), newEventId(70_000_000_000_000)];
    assert.equal(new Set(ids).size, ids.length);
    assert.ok((ids[1] ?? "") < (ids[2] ?? "") && (ids[0] ?? "") < (ids[2] ?? ""));
    assert.ok((ids[2] ?? "") < (ids[3] ?? ""));
  });

  test("within one millisecond, every digit after the version is random, and the variant is 8, 9, a or b", () => {
    const ids = Array.from({ length: 2_000 }, () => newEventId(1_000));
    for (const id of ids) assert.match(id, UUID_V7);
    assert.equal(new Set(ids).size, ids.length);
    for (let at = 24; at < 45; at++) {
      if (at === 27 || at === 32) continue;
      const digits = new Set(ids.map((id) => id[at]));
      assert.equal(digits.size, at === 28 ? 4 : 16, `digit ${at}: ${[...digits].join("")}`);
    }
  });

  test("are given to an update without one; a publisher's id is kept", () => {
    assert.match(validateUpdate({ topics: ["/a"] }).id, UUID_V7);
    assert.equal(validateUpdate({ topics: ["/a"], id: "mine" }).id, "mine");
  });
});
