#!/usr/bin/env node
/**
 * The `ssekit` command: `hub` starts a Mercure hub, `pub` publishes, `sub` subscribes, `token`
 * mints a development JWT. This file only dispatches and turns errors into exit codes (2 for a
 * usage or configuration error, 1 for a failure); each command lives in cli/commands/.
 */
import { CliRuntimeError, CliUsageError } from "./cli/errors.js";
import { type CommandIo, processIo } from "./cli/io.js";

type Command = (argv: readonly string[], io: CommandIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  hub: async () => (await import("./cli/commands/hub.js")).hubCommand,
  pub: async () => (await import("./cli/commands/pub.js")).pubCommand,
  sub: async () => {
    const { subCommand } = await import("./cli/commands/sub.js");
    return (argv, io) => {
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      process.once("SIGTERM", () => stop.abort());
      return subCommand(argv, io, stop.signal);
    };
  },
  token: async () => (await import("./cli/commands/token.js")).tokenCommand,
};

const USAGE = `Usage: ssekit <command> [options]

Commands:
  hub      start a Mercure-protocol hub (ssekit hub --dev for development)
  pub      publish an update: ssekit pub TOPIC DATA
  sub      print updates: ssekit sub TOPIC...
  token    mint a development JWT: ssekit token --publish '*'

Run ssekit <command> --help for a command's options.
`;

export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr.write(`ssekit: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(", ")}\n`);
    return 2;
  }
  try {
    return await (await load())(rest, io);
  } catch (error) {
    if (error instanceof CliUsageError || error instanceof CliRuntimeError) {
      // One line, always: a reason quoted from a library (JSON.parse, OpenSSL) may hold line breaks.
      io.stderr.write(`${error.message.replace(/\s*[\r\n]+\s*/g, " ")}\n`);
      return error.exitCode;
    }
    // Not a known failure: still one line, not a stack trace; SSEKIT_DEBUG=1 shows the stack.
    const detail =
      error instanceof Error ? (io.env.SSEKIT_DEBUG ? error.stack : error.message) : String(error);
    io.stderr.write(`ssekit ${name}: unexpected error: ${detail}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2), processIo());
// Let stdout drain, then end the process even if a library left a handle open.
process.stdout.write("", () => process.exit(code));
