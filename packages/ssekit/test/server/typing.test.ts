import assert from "node:assert/strict";
import { test } from "node:test";
import { createChannel, createWebSession } from "../../src/server/index.js";

type Prices = { price: { symbol: string; p: number }; note: string };

test("typed sessions of any event map join a channel, and the event map types send and broadcast", async () => {
  const { session, response } = createWebSession<Prices>(new Request("http://example.test/"));
  const channel = createChannel<Prices>();
  channel.add(session);
  channel.broadcast("price", { symbol: "A", p: 1 });
  // @ts-expect-error: data of "price" must be { symbol, p }
  assert.throws(() => channel.broadcast("price", undefined), /JSON-serializable/);
  session.send("note", "n");
  channel.close();
  assert.equal(
    await response.text(),
    ':\n\nevent: price\ndata: {"symbol":"A","p":1}\n\nevent: note\ndata: "n"\n\n',
  );
});
