import assert from "node:assert/strict";
import { type ClientHttp2Session, connect } from "node:http2";
import { after, before, describe, test } from "node:test";
import { createParser } from "eventsource-parser";
import { type Certificate, selfSignedCertificate } from "./browser-support.js";
import { type Started, startHub } from "./hub-support.js";

// Many subscribers share one HTTP/2 connection (as tabs behind one browser connection do): every
// stream must be answered and get every update, with Node's client at its default settings.
const STREAMS = 300;
const UPDATES = 3;

describe("hub over HTTP/2: many streams on one connection", { timeout: 60_000 }, () => {
  let certificate: Certificate | undefined;
  let started: Started | undefined;
  let client: ClientHttp2Session | undefined;

  before(async () => {
    certificate = selfSignedCertificate();
    started = await startHub({ anonymous: true, tls: { cert: certificate.cert, key: certificate.key } });
  });
  after(async () => {
    client?.destroy();
    await started?.hub.close();
    certificate?.dispose();
  });

  test(`${STREAMS} subscriptions on one connection are all answered and all get every update in order`, async () => {
    if (started === undefined) throw new Error("hub not started");
    const { hub, url } = started;
    let sessions = 0;
    hub.server.on("session", () => sessions++);
    const session = connect(url, { rejectUnauthorized: false });
    client = session;
    const sessionErrors: Error[] = [];
    session.on("error", (error) => sessionErrors.push(error));
    const received: string[][] = Array.from({ length: STREAMS }, () => []);
    let complete = 0;
    let allReceived: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      allReceived = resolve;
    });
    const answered = Array.from(
      { length: STREAMS },
      (_, i) =>
        new Promise<number>((resolve, reject) => {
          const stream = session.request({
            ":path": `/.well-known/mercure?topic=${encodeURIComponent("/many")}`,
          });
          const parser = createParser({
            onEvent: (event) => {
              const mine = received[i];
              mine?.push(event.data);
              if (mine?.length === UPDATES && ++complete === STREAMS) allReceived();
            },
          });
          stream.setEncoding("utf8");
          stream.on("data", (text: string) => parser.feed(text));
          stream.on("response", (headers) => resolve(Number(headers[":status"])));
          stream.on("error", reject);
        }),
    );
    const statuses = await Promise.all(answered);
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(sessions, 1, "every stream shared one connection");
    for (let n = 1; n <= UPDATES; n++) await hub.publish({ topics: ["/many"], data: `update ${n}` });
    await done;
    const expected = Array.from({ length: UPDATES }, (_, k) => `update ${k + 1}`);
    for (const events of received) assert.deepEqual(events, expected);
    assert.deepEqual(sessionErrors, []);
  });
});
