/**
 * `ssekit sub TOPIC...`: subscribes to a Mercure hub and prints every update until interrupted (or
 * until `--count` updates arrived), reconnecting with `Last-Event-ID` when the connection drops.
 * Reads the stream with `fetch` and the `ssekit/protocol` parser. Not responsible for formatting
 * (output.ts).
 */
import { createParser, encodeHeaderId } from "ssekit/protocol";
import { parseCommandArgs, stringFlag } from "../args.js";
import { CliRuntimeError, CliUsageError } from "../errors.js";
import { hubUrl, subscriberKey } from "../hub-url.js";
import { type CommandIo, useColor } from "../io.js";
import { formatJsonLine, formatPretty, type ReceivedEvent } from "../output.js";
import { mintToken } from "../tokens.js";
import { parseInteger } from "../values.js";

export const SUB_HELP = `Usage: ssekit sub TOPIC... [options]

Prints the updates published to the topics (URI templates and * allowed). On a terminal the output
is coloured and readable (NO_COLOR turns colour off); piped, it is one JSON object per line:
{"id": "...", "type": "message", "data": "..."}. Reconnects with the last event id on a drop.

Options:
  --hub URL             the hub (default: SSEKIT_HUB_URL or http://localhost:3000/.well-known/mercure)
  --last-event-id ID    resume after this id; "earliest" replays the whole history
  --token JWT           subscriber JWT (for private updates, or a hub without anonymous access)
  --key SECRET          sign a subscriber JWT for the topics with this secret instead
                        (default: MERCURE_SUBSCRIBER_JWT_KEY, then MERCURE_JWT_KEY; none: anonymous)
  --count N             exit after N updates
  -h, --help            show this help
`;

const DEFAULT_RETRY_MS = 1_000;

export async function subCommand(
  argv: readonly string[],
  io: CommandIo,
  signal?: AbortSignal,
): Promise<number> {
  const args = parseCommandArgs(
    "sub",
    argv,
    {
      hub: { type: "string" },
      "last-event-id": { type: "string" },
      token: { type: "string" },
      key: { type: "string" },
      count: { type: "string" },
    },
    true,
  );
  if (args.values.help === true) {
    io.stdout.write(SUB_HELP);
    return 0;
  }
  const topics = args.positionals;
  if (topics.length === 0) {
    throw new CliUsageError(
      "BAD_ARGUMENTS",
      "ssekit sub: expected at least one TOPIC; see ssekit sub --help",
    );
  }
  const countText = stringFlag(args, "count");
  const limit = countText === undefined ? Number.POSITIVE_INFINITY : parseInteger(countText, "--count", 1);
  const url = hubUrl(stringFlag(args, "hub"), io.env);
  for (const topic of topics) url.searchParams.append("topic", topic);
  let token = stringFlag(args, "token");
  const key = token === undefined ? subscriberKey(stringFlag(args, "key"), io.env) : undefined;
  if (key !== undefined) token = await mintToken({ key, subscribe: topics, ttlMs: 24 * 3_600_000 });

  const color = useColor(io);
  const pretty = io.stdout.isTTY === true;
  let lastEventId = stringFlag(args, "last-event-id");
  let retryMs = DEFAULT_RETRY_MS;
  let received = 0;
  const done = new AbortController();
  const stop = () => done.abort();
  signal?.addEventListener("abort", stop, { once: true });

  try {
    while (!done.signal.aborted && received < limit) {
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      // As browsers send it: a non-ASCII id as its UTF-8 bytes (fetch refuses other characters).
      if (lastEventId !== undefined) headers["last-event-id"] = encodeHeaderId(lastEventId);
      let response: Response;
      try {
        response = await fetch(url, { headers, signal: done.signal });
      } catch (error) {
        if (done.signal.aborted) break;
        io.stderr.write(
          `ssekit sub: cannot reach ${url.href} (${describe(error)}); retrying in ${retryMs} ms\n`,
        );
        await delay(retryMs, done.signal);
        continue;
      }
      if (!response.ok || !response.body) {
        const body = (await response.text()).trim();
        throw new CliRuntimeError(
          "HUB_REJECTED",
          `ssekit sub: the hub answered ${response.status} ${response.statusText}${body ? `: ${body}` : ""}`,
        );
      }
      io.stderr.write(`ssekit sub: subscribed to ${topics.join(", ")} at ${url.origin}${url.pathname}\n`);
      const parser = createParser({
        onEvent(event) {
          if (received >= limit) return;
          received++;
          if (event.lastEventId !== "") lastEventId = event.lastEventId;
          const update: ReceivedEvent = { type: event.type, id: event.lastEventId, data: event.data };
          io.stdout.write(pretty ? formatPretty(update, color) : formatJsonLine(update));
          if (received >= limit) done.abort();
        },
        onRetry(ms) {
          retryMs = ms;
        },
      });
      try {
        const reader = response.body.getReader();
        for (;;) {
          const { done: ended, value } = await reader.read();
          if (ended) break;
          parser.feed(value);
        }
      } catch (error) {
        if (done.signal.aborted) break;
        io.stderr.write(`ssekit sub: connection lost (${describe(error)}); reconnecting in ${retryMs} ms\n`);
      }
      if (done.signal.aborted) break;
      await delay(retryMs, done.signal);
    }
  } finally {
    signal?.removeEventListener("abort", stop);
  }
  return 0;
}

function describe(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
