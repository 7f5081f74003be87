/**
 * `ssekit pub TOPIC DATA`: publishes one update to a Mercure hub (form-encoded POST with a
 * publisher JWT) and prints the id the hub assigned. Not responsible for retrying: a rejected or
 * failed publish exits 1 with the hub's reason.
 */
import { booleanFlag, parseCommandArgs, stringFlag } from "../args.js";
import { fetchDevToken } from "../dev-token.js";
import { CliRuntimeError, CliUsageError } from "../errors.js";
import { hubUrl, publisherKey } from "../hub-url.js";
import type { CommandIo } from "../io.js";
import { mintToken } from "../tokens.js";
import { parseInteger } from "../values.js";

export const PUB_HELP = `Usage: ssekit pub TOPIC DATA [options]

Publishes DATA to TOPIC and prints the update's id. DATA "-" reads the data from stdin.

Options:
  --hub URL        the hub (default: SSEKIT_HUB_URL or http://localhost:3000/.well-known/mercure)
  --token JWT      publisher JWT to send
  --key SECRET     sign a publisher JWT for TOPIC with this secret instead
                   (default: MERCURE_PUBLISHER_JWT_KEY, then MERCURE_JWT_KEY; with none,
                   a hub on this machine started with --dev gives a token)
  --type TYPE      event type (the SSE "event" field)
  --id ID          the update's id (default: the hub assigns one)
  --retry MS       reconnection delay to send to subscribers
  --private        deliver only to subscribers authorized for TOPIC
  -h, --help       show this help
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

export async function pubCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const args = parseCommandArgs(
    "pub",
    argv,
    {
      hub: { type: "string" },
      token: { type: "string" },
      key: { type: "string" },
      type: { type: "string" },
      id: { type: "string" },
      retry: { type: "string" },
      private: { type: "boolean" },
    },
    true,
  );
  if (args.values.help === true) {
    io.stdout.write(PUB_HELP);
    return 0;
  }
  const [topic, dataArg, ...extra] = args.positionals;
  if (topic === undefined || dataArg === undefined || extra.length > 0) {
    throw new CliUsageError(
      "BAD_ARGUMENTS",
      "ssekit pub: expected exactly TOPIC and DATA; see ssekit pub --help",
    );
  }
  const url = hubUrl(stringFlag(args, "hub"), io.env);
  let token = stringFlag(args, "token");
  if (token === undefined) {
    const key = publisherKey(stringFlag(args, "key"), io.env);
    if (key !== undefined) token = await mintToken({ key, publish: [topic], ttlMs: 60_000 });
    else {
      // Nothing configured: a local --dev hub gives loopback clients a token.
      const dev = await fetchDevToken(url);
      if (dev.kind === "none") {
        throw new CliUsageError(
          "MISSING_VALUE",
          `ssekit pub: --token or --key is required (or set MERCURE_PUBLISHER_JWT_KEY or MERCURE_JWT_KEY); no development token either: ${dev.reason}`,
        );
      }
      token = dev.token;
    }
  }
  const form = new URLSearchParams({ topic, data: dataArg === "-" ? await readStdin() : dataArg });
  const type = stringFlag(args, "type");
  const id = stringFlag(args, "id");
  const retry = stringFlag(args, "retry");
  if (type !== undefined) form.set("type", type);
  if (id !== undefined) form.set("id", id);
  if (retry !== undefined) form.set("retry", String(parseInteger(retry, "--retry")));
  if (booleanFlag(args, "private")) form.set("private", "on");

  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" },
      body: form,
    });
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new CliRuntimeError("HUB_UNREACHABLE", `ssekit pub: cannot reach ${url.href} (${cause})`);
  }
  const body = (await response.text()).trim();
  if (!response.ok) {
    throw new CliRuntimeError(
      "HUB_REJECTED",
      `ssekit pub: the hub answered ${response.status} ${response.statusText}${body ? `: ${body}` : ""}`,
    );
  }
  io.stdout.write(`${body}\n`);
  return 0;
}
