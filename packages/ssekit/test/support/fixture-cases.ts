/**
 * The adversarial stream cases shared by the client's Node tests and its browser differential
 * test. Each ends in a state where an EventSource is CLOSED (a 204, a bad status or a bad content
 * type), so a scenario knows when its log is complete. `retry: 10` keeps reconnects short.
 */
import type { Script } from "./fixture-server.js";

export interface FixtureCase {
  readonly name: string;
  readonly scripts: readonly Script[];
}

const bytes = (text: string) => new TextEncoder().encode(text);
const stop: Script = { kind: "status", status: 204 };
const stream = (...chunks: (string | Uint8Array)[]): Script => ({ kind: "stream", chunks });

const utf8 = bytes("data: caf\u00e9 \u{1F600} \u65e5\u672c\n\n");

export const FIXTURE_CASES: readonly FixtureCase[] = [
  {
    name: "basic",
    scripts: [stream("retry: 10\n\n", "data: hello\n\n", "event: custom\ndata: x\n\n"), stop],
  },
  {
    name: "line-endings-split",
    scripts: [
      stream("retry: 10\r\rdata: a\r", "\ndata: b\r", "\n\r", "\ndata: c\r\r", "data: d\n", "\r\n"),
      stop,
    ],
  },
  {
    name: "bom-split",
    scripts: [
      stream(Uint8Array.of(0xef), Uint8Array.of(0xbb, 0xbf), "data: after bom\n\nretry: 10\n\n"),
      stop,
    ],
  },
  { name: "bom-twice", scripts: [stream("\ufeff\ufeffdata: x\n\ndata: y\n\nretry: 10\n\n"), stop] },
  {
    name: "utf8-split",
    scripts: [
      stream(
        "retry: 10\n\n",
        ...Array.from(utf8, (b) => Uint8Array.of(b)),
        utf8.subarray(0, 9),
        utf8.subarray(9),
      ),
      stop,
    ],
  },
  {
    name: "content-type-params",
    scripts: [
      { kind: "stream", contentType: "Text/Event-Stream; charset=utf-8", chunks: ["retry: 10\ndata: p\n\n"] },
      stop,
    ],
  },
  {
    name: "bad-content-type",
    scripts: [{ kind: "stream", contentType: "text/plain", chunks: ["data: no\n\n"] }],
  },
  { name: "no-content-204", scripts: [stop] },
  { name: "server-error-500", scripts: [{ kind: "status", status: 500, body: "boom" }] },
  { name: "redirect-301", scripts: [{ kind: "redirect", status: 301, location: "/case/basic-target" }] },
  { name: "redirect-307", scripts: [{ kind: "redirect", status: 307, location: "/case/basic-target" }] },
  { name: "basic-target", scripts: [stream("retry: 10\nid: r1\ndata: redirected\n\n"), stop] },
  {
    name: "retry-changes",
    scripts: [stream("retry: 5000\n\nretry: x\n\nretry: 10\ndata: one\n\n"), stream("data: two\n\n"), stop],
  },
  {
    name: "ids-nul-and-resume",
    scripts: [
      stream("retry: 10\nid: 1\ndata: a\n\n", "id: 2\u0000x\ndata: b\n\n", "data: c\n\n"),
      stream("data: d\n\n", "id: 3\ndata: e\n\n"),
      stream("id\ndata: f\n\n"),
      stop,
    ],
  },
  {
    name: "event-types-and-comments",
    scripts: [
      stream(
        ": a comment\n\nretry: 10\n",
        "event: foo\ndata: f\n\n",
        "event:\ndata: plain\n\n",
        ":another\nevent: bar\ndata\n\n",
        "data: multi\ndata: line\ndata:\n\n",
        "event: foo\n\n",
        "data: unterminated",
      ),
      stop,
    ],
  },
  {
    // A last event id that is not ASCII: browsers send its UTF-8 bytes in Last-Event-ID.
    name: "id-non-ascii",
    scripts: [stream("retry: 10\nid: \u2603\u20ac\ndata: a\n\n"), stream("data: b\n\n"), stop],
  },
  {
    // An id in a block without data sets the id the reconnection sends (dispatch step 1), and the
    // id of the next events; an id in an unfinished block at the end of the stream does not.
    name: "id-only-blocks",
    scripts: [
      stream("retry: 10\nid: 1\ndata: a\n\n", "id: 2\n\n"),
      stream("data: b\n\n", "id: 3\nevent: foo\n\n", "data: c\n\n", "id: 4\n"),
      stream("id\n\n"),
      stream("data: d\n\n"),
      stop,
    ],
  },
  { name: "status-201", scripts: [{ kind: "stream", status: 201, chunks: ["retry: 10\ndata: no\n\n"] }] },
  { name: "status-206", scripts: [{ kind: "stream", status: 206, chunks: ["retry: 10\ndata: no\n\n"] }] },
  { name: "empty-content-type", scripts: [{ kind: "stream", contentType: "", chunks: ["data: no\n\n"] }] },
  {
    name: "content-type-event-stream-prefix",
    scripts: [{ kind: "stream", contentType: "text/event-streams", chunks: ["data: no\n\n"] }],
  },
  { name: "redirect-302", scripts: [{ kind: "redirect", status: 302, location: "/case/basic-target" }] },
  { name: "redirect-308", scripts: [{ kind: "redirect", status: 308, location: "/case/basic-target" }] },
  {
    // Only ASCII digits make a retry; each of these but the last is ignored, 0 is valid.
    name: "retry-edge-values",
    scripts: [
      stream("retry: -1\nretry: 1.5\nretry: 1e3\nretry:  10\nretry: 10 \nretry: +10\nretry: 0\ndata: a\n\n"),
      stream("retry: 0010\ndata: b\n\n"),
      stop,
    ],
  },
  {
    name: "cr-only-with-ids",
    scripts: [stream("retry: 10\rid: 1\rdata: a\r\r", "id: 2\r\r"), stream("data: b\r\r"), stop],
  },
];
