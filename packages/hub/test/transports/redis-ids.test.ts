// The Redis transport's `seq`: a stream entry id as one number that orders as the ids do and maps back.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { entryIdOfSeq, seqOfEntryId, timeOfSeq } from "../../src/transports/redis-ids.js";

const entryId = fc
  .tuple(
    fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2059, 0, 1) }),
    fc.integer({ min: 0, max: 8191 }),
  )
  .map(([ms, n]) => `${ms}-${n}`);

function compare(a: string, b: string): number {
  const [am, an] = a.split("-").map(Number) as [number, number];
  const [bm, bn] = b.split("-").map(Number) as [number, number];
  return am - bm || an - bn;
}

test("seq orders as entry ids do, maps back to the same id, and carries Redis's time", () => {
  fc.assert(
    fc.property(entryId, entryId, (a, b) => {
      const [sa, sb] = [seqOfEntryId(a), seqOfEntryId(b)];
      assert.ok(Number.isSafeInteger(sa));
      assert.equal(Math.sign(sa - sb), Math.sign(compare(a, b)));
      assert.equal(entryIdOfSeq(sa), a);
      assert.equal(timeOfSeq(sa), Number(a.split("-")[0]));
    }),
  );
});

test("the start of the log is seq 0 both ways, and no entry id the hub can see is", () => {
  assert.equal(seqOfEntryId("0-0"), 0);
  assert.equal(entryIdOfSeq(0), "0-0");
  const oldest = `${Date.UTC(2025, 0, 1)}-0`;
  assert.ok(seqOfEntryId(oldest) > 0);
  assert.equal(entryIdOfSeq(seqOfEntryId(oldest)), oldest);
});
