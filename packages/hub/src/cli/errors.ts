/**
 * The typed errors of the `ssekit` command line. A `CliUsageError` is something the user typed or
 * configured wrongly (exit code 2, one line naming the flag, variable or file); a `CliRuntimeError`
 * is a failure while running a valid command (exit code 1), such as a hub answering 401 to `pub`.
 * Not responsible for printing: cli.ts turns these into a message and an exit code.
 */

export type CliUsageErrorCode =
  | "UNKNOWN_COMMAND"
  | "BAD_ARGUMENTS"
  | "BAD_VALUE"
  | "BAD_CONFIG_FILE"
  | "BAD_CONFIG"
  | "MISSING_VALUE";

export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
  /** Process exit code for usage and configuration errors, as most Unix tools use. */
  readonly exitCode = 2;
  constructor(
    readonly code: CliUsageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type CliRuntimeErrorCode = "HUB_REJECTED" | "HUB_UNREACHABLE" | "START_FAILED" | "SQLITE_DRIVER";

export class CliRuntimeError extends Error {
  override readonly name = "CliRuntimeError";
  readonly exitCode = 1;
  constructor(
    readonly code: CliRuntimeErrorCode,
    message: string,
  ) {
    super(message);
  }
}
