/**
 * `ssekit token`: prints a Mercure JWT signed with a shared secret, for curl, scripts and
 * development. Not responsible for production token issuance (use your identity provider).
 */

import { HMAC_MIN_BYTES } from "../../config.js";
import { parseCommandArgs, stringFlag, stringFlags } from "../args.js";
import { DEFAULT_DEV_KEY_FILE, readDevKey } from "../dev.js";
import { CliUsageError } from "../errors.js";
import { publisherKey, subscriberKey } from "../hub-url.js";
import type { CommandIo } from "../io.js";
import { mintToken, parseHmacAlgorithm } from "../tokens.js";
import { parseDuration } from "../values.js";

export const TOKEN_HELP = `Usage: ssekit token [--publish SELECTOR]... [--subscribe SELECTOR]... [options]

Prints a JWT with the Mercure claim { mercure: { publish, subscribe } }.
With neither --publish nor --subscribe, the token may publish and subscribe to every topic ("*").

Options:
  --publish SELECTOR     topic selector the bearer may publish to (repeatable)
  --subscribe SELECTOR   topic selector the bearer may subscribe to (repeatable)
  --key SECRET           signing secret (default: MERCURE_PUBLISHER_JWT_KEY, or
                         MERCURE_SUBSCRIBER_JWT_KEY for a subscribe-only token, or MERCURE_JWT_KEY,
                         else the key a --dev hub keeps in ./data/dev-jwt-key)
  --alg ALG              HS256 | HS384 | HS512 (default HS256)
  --ttl DURATION         lifetime such as 1h, 30m, 7d; 0 for no expiry (default 1h)
  -h, --help             show this help
`;

export async function tokenCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const args = parseCommandArgs(
    "token",
    argv,
    {
      publish: { type: "string", multiple: true },
      subscribe: { type: "string", multiple: true },
      key: { type: "string" },
      alg: { type: "string" },
      ttl: { type: "string" },
    },
    false,
  );
  if (args.values.help === true) {
    io.stdout.write(TOKEN_HELP);
    return 0;
  }
  let publish = stringFlags(args, "publish");
  let subscribe = stringFlags(args, "subscribe");
  const subscribeOnly = publish.length === 0 && subscribe.length > 0;
  const key =
    (subscribeOnly
      ? subscriberKey(stringFlag(args, "key"), io.env)
      : publisherKey(stringFlag(args, "key"), io.env)) ?? readDevKey();
  if (key === undefined) {
    throw new CliUsageError(
      "MISSING_VALUE",
      `ssekit token: --key is required (or set MERCURE_PUBLISHER_JWT_KEY or MERCURE_JWT_KEY; in a folder where npm start ran, ${DEFAULT_DEV_KEY_FILE} is used)`,
    );
  }
  if (publish.length === 0 && subscribe.length === 0) {
    publish = ["*"];
    subscribe = ["*"];
  }
  const ttlText = stringFlag(args, "ttl");
  const algText = stringFlag(args, "alg");
  const alg = algText === undefined ? "HS256" : parseHmacAlgorithm(algText, "--alg");
  // A hub refuses to start with a shorter secret (RFC 7518 section 3.2), so never mint with one.
  const bytes = Buffer.byteLength(key);
  if (bytes < HMAC_MIN_BYTES[alg]) {
    throw new CliUsageError(
      "BAD_VALUE",
      `ssekit token: --key: an ${alg} secret must be at least ${HMAC_MIN_BYTES[alg]} bytes (got ${bytes}); generate one with: openssl rand -base64 ${HMAC_MIN_BYTES[alg]}`,
    );
  }
  const token = await mintToken({
    key,
    publish: publish.length > 0 ? publish : undefined,
    subscribe: subscribe.length > 0 ? subscribe : undefined,
    ttlMs: ttlText === undefined ? undefined : parseDuration(ttlText, "--ttl"),
    alg,
  });
  io.stdout.write(`${token}\n`);
  return 0;
}
