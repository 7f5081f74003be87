// createHub({ transport }): a transport of the caller's own is what the hub appends to, follows and
// replays from; a value that is not a transport stops start-up naming the setting.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ConfigError,
  createHub,
  LocalTransport,
  MemoryStore,
  type StoredUpdate,
  type Transport,
  type TransportListener,
  type Update,
} from "../../src/index.js";
import { Collector, publishOk, startHub } from "../support/hub-support.js";

/** A transport that records what the hub asks of it, over the local one. */
class RecordingTransport extends LocalTransport {
  readonly appended: string[] = [];
  follows = 0;
  constructor() {
    super(new MemoryStore({ maxEvents: 100, maxAgeMs: 60_000 }));
  }
  override async append(update: Update): Promise<StoredUpdate> {
    this.appended.push(update.id);
    return super.append(update);
  }
  override follow(listener: TransportListener): Promise<number> {
    this.follows++;
    return super.follow(listener);
  }
}

test("the hub appends to, follows and replays from a transport given to createHub", async () => {
  const transport = new RecordingTransport();
  const { hub, endpoint } = await startHub({ transport, anonymous: true });
  const live = new Collector(`${endpoint}?topic=/own`);
  try {
    await live.opened();
    const id = await publishOk(endpoint, { topic: "/own", data: "mine" });
    await live.waitFor(1);
    assert.deepEqual(transport.appended, [id]);
    assert.equal(transport.follows, 1);
    const replayed = new Collector(`${endpoint}?topic=/own`, { lastEventId: "earliest" });
    try {
      await replayed.waitFor(1);
      assert.equal(replayed.events[0]?.id, id);
    } finally {
      replayed.close();
    }
  } finally {
    live.close();
    await hub.close();
  }
});

test("a transport option that is not a Transport stops start-up naming the setting", () => {
  assert.throws(
    () => createHub({ transport: { append: () => undefined } as unknown as Transport, logger: "silent" }),
    (error: unknown) =>
      error instanceof ConfigError && error.setting === "transport" && /follow|after/.test(error.message),
  );
});
