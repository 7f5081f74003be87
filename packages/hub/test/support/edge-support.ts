/**
 * Helpers of the bad-input tests at the hub's HTTP edge: a hub that answers slow bodies quickly,
 * raw form posts, the one-line refusal check, what history holds, and raw TCP exchanges for what
 * fetch cannot send. Not a test file itself.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { publisherToken, type Started, startHub } from "./hub-support.js";

/** An anonymous hub without subscription events whose publish bodies time out after 300 ms. */
export function startEdgeHub(): Promise<Started> {
  return startHub({ anonymous: true, bodyTimeoutMs: 300, subscriptions: false });
}

/** Posts a raw form body (no URLSearchParams re-encoding) with a publisher token. */
export async function postRaw(
  started: Started,
  body: string | Uint8Array<ArrayBuffer>,
  contentType = "application/x-www-form-urlencoded",
): Promise<Response> {
  return fetch(started.endpoint, {
    method: "POST",
    headers: { authorization: `Bearer ${await publisherToken()}`, "content-type": contentType },
    body,
  });
}

/** Asserts a status and a one-line text/plain reason matching `reason`. */
export async function assertRefused(response: Response, status: number, reason: RegExp): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  assert.match(text, reason);
  assert.equal(text.trimEnd().includes("\n"), false, `one line: ${text}`);
}

/** The data of every update in history on `topic` (public ones: the poll is anonymous). */
export async function stored(started: Started, topic: string): Promise<string[]> {
  const url = `${started.endpoint}?poll=1&timeout=0&lastEventID=earliest&topic=${encodeURIComponent(topic)}`;
  const body = (await (await fetch(url)).json()) as { events: { data: string }[] };
  return body.events.map((e) => e.data);
}

/** Sends raw bytes on a new TCP connection and resolves with everything received until it closes. */
export function rawExchange(started: Started, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(started.url).port), "127.0.0.1");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.on("close", () => resolve(received));
    // The hub may answer and close before it has read all of a large request: keep the answer.
    socket.on("error", (error) => (received === "" ? reject(error) : resolve(received)));
    socket.write(request);
  });
}

export function parseRaw(response: string): { status: number; headers: string; body: string } {
  const [head = "", body = ""] = response.split("\r\n\r\n");
  return { status: Number(head.split(" ")[1]), headers: head.toLowerCase(), body };
}
