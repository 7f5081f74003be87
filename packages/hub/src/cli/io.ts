/**
 * What a command receives from the process: its streams and environment. Commands take this
 * instead of reaching for `process` so that their parsing can be tested in-process. Also decides
 * whether to colour output (a TTY, and `NO_COLOR` unset, per no-color.org).
 */
import type { Environment } from "./env.js";

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
  readonly env: Environment;
}

export function processIo(): CommandIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

export function useColor(io: CommandIo): boolean {
  return io.stdout.isTTY === true && (io.env.NO_COLOR ?? "") === "";
}
