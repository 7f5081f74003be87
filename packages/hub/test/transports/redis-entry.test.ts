// An update as an entry of the Redis history stream (redis-entry.ts): two fields, read back
// exactly; entries written one field per property by earlier versions still read; damaged ones skipped.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Update } from "../../src/domain/update.js";
import { entryFields, storedOfEntries, storedOfEntry } from "../../src/transports/redis-entry.js";
import { seqOfEntryId } from "../../src/transports/redis-ids.js";

const ENTRY_ID = "1767225600000-3";

const update: fc.Arbitrary<Update> = fc.record({
  id: fc.string({ minLength: 1 }),
  topics: fc.array(fc.string({ unit: "grapheme" }), { minLength: 1, maxLength: 4 }),
  // Line feeds, CRs and JSON-looking text in the data must come back as they were.
  data: fc.oneof(fc.string({ unit: "grapheme" }), fc.constantFrom("", "\n", "[1]\n{", "a\r\nb\n")),
  private: fc.boolean(),
  type: fc.option(fc.string({ unit: "grapheme" }), { nil: undefined }),
  retry: fc.option(fc.nat(), { nil: undefined }),
});

test("an update written as an entry reads back the same, positioned by its entry id", () => {
  fc.assert(
    fc.property(update, (u) => {
      const fields = entryFields(u);
      assert.deepEqual(Object.keys(fields), ["id", "u"]);
      assert.equal(fields.id, u.id);
      const stored = storedOfEntry({ id: ENTRY_ID, fields });
      assert.deepEqual(stored, { ...u, seq: seqOfEntryId(ENTRY_ID), time: 1767225600000 });
    }),
  );
});

test("entries written one field per property (before the packed form) still read", () => {
  const stored = storedOfEntry({
    id: ENTRY_ID,
    fields: {
      id: "old",
      topics: '["/a","/b"]',
      data: "line 1\nline 2",
      private: "1",
      type: "note",
      retry: "250",
    },
  });
  assert.deepEqual(
    { ...stored },
    {
      id: "old",
      topics: ["/a", "/b"],
      data: "line 1\nline 2",
      private: true,
      type: "note",
      retry: 250,
      seq: seqOfEntryId(ENTRY_ID),
      time: 1767225600000,
    },
  );
  const plain = storedOfEntry({ id: ENTRY_ID, fields: { id: "p", topics: '["/t"]', private: "0" } });
  assert.equal(plain?.data, "");
  assert.equal(plain?.private, false);
  assert.equal(plain?.type, undefined);
  assert.equal(plain?.retry, undefined);
});

test("entries that hold no update are skipped, the others kept in order", () => {
  const good = (id: string) => ({
    id: ENTRY_ID,
    fields: entryFields({ id, topics: ["/t"], data: id, private: false }),
  });
  const damaged: Record<string, string>[] = [
    { id: "x" }, // no packed field, no topics
    { u: '[["/t"],0,null,null]\ndata' }, // no id
    { id: "x", u: '[["/t"],0,null,null]' }, // no line feed
    { id: "x", u: "[not json\ndata" },
    { id: "x", u: "[[],0,null,null]\ndata" }, // no topic
    { id: "x", u: '[["/t"],2,null,null]\ndata' },
    { id: "x", u: '[["/t"],0,5,null]\ndata' },
    { id: "x", u: '[["/t"],0,null,"5"]\ndata' },
    { id: "x", u: '[["/t"],0,null]\ndata' },
    { id: "x", topics: "not json" },
    { id: "x", topics: '"/t"' },
  ];
  for (const fields of damaged) assert.equal(storedOfEntry({ id: ENTRY_ID, fields }), undefined);
  const read = storedOfEntries([
    good("a"),
    ...damaged.map((fields) => ({ id: ENTRY_ID, fields })),
    good("b"),
  ]);
  assert.deepEqual(
    read.map((u) => u.id),
    ["a", "b"],
  );
});
