/**
 * Test helpers that run the real `ssekit` CLI as a child process (node + tsx on the sources, as
 * `npm start` does) and wait on its output, never on sleeps. Used by the cli and crash tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
export const CLI = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));
/** tsx by absolute URL, so that the CLI can run with any working directory (--dev writes ./data). */
const TSX = import.meta.resolve("tsx");

export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout (or stderr), rejects if the process exits first. */
  waitFor(pattern: RegExp, stream?: "stdout" | "stderr"): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited(): Promise<number | NodeJS.Signals>;
  /** Kills the process (SIGKILL unless told otherwise) if it is still running, and waits for it. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Written to stdin, which is then closed. */
  readonly input?: string;
}

/** An environment without the caller's Mercure/ssekit variables, so tests do not depend on the shell. */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith("MERCURE_") || key.startsWith("SSEKIT_")) continue;
    env[key] = value;
  }
  delete env.NODE_TEST_CONTEXT;
  return { ...env, ...extra };
}

export function spawnCli(args: readonly string[], options: SpawnOptions = {}): CliProcess {
  return spawnCommand(process.execPath, ["--conditions=ssekit-source", "--import", TSX, CLI, ...args], {
    ...options,
    label: `ssekit ${args[0]}`,
  });
}

/** Runs any command (`npm`, `npx`, ...) the same way, with the clean environment and output watched. */
export function spawnCommand(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { readonly label?: string } = {},
): CliProcess {
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: cleanEnv(options.env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  const label = options.label ?? [command, ...args].join(" ");
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  else child.stdin?.end();
  const exit = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once("close", (code, signal) => resolve(signal ?? code ?? 0));
  });
  const running = () => child.exitCode === null && child.signalCode === null;

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: () => exit,
    waitFor(pattern, stream = "stdout") {
      const source = stream === "stdout" ? child.stdout : child.stderr;
      const text = () => (stream === "stdout" ? out : err);
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = text().match(pattern);
          if (match) {
            source?.off("data", check);
            resolve(match);
          }
        };
        source?.on("data", check);
        check();
        void exit.then((code) => {
          source?.off("data", check);
          const match = text().match(pattern);
          if (match) resolve(match);
          else reject(new Error(`${label} exited (${code}) before printing ${pattern}\n${out}\n${err}`));
        });
      });
    },
    async kill(signal = "SIGKILL") {
      if (running()) {
        child.kill(signal);
        await exit;
      }
    },
  };
}

export interface HubProcess extends CliProcess {
  /** The hub's base URL, such as http://127.0.0.1:40123 */
  readonly url: string;
  /** The Mercure endpoint: `${url}/.well-known/mercure` */
  readonly mercure: string;
}

/** Starts `ssekit hub ARGS` and resolves once it printed its listening line. */
export async function startHub(args: readonly string[], options: SpawnOptions = {}): Promise<HubProcess> {
  const cli = spawnCli(["hub", ...args], options);
  try {
    const match = await cli.waitFor(/ssekit hub listening on (\S+)/);
    const url = (match[1] ?? "").replace(/\/$/, "");
    return { ...cli, url, mercure: `${url}/.well-known/mercure` };
  } catch (error) {
    await cli.kill();
    throw error;
  }
}

/** Runs a command that ends by itself; resolves with its exit code and output. */
export async function runCli(args: readonly string[], options: SpawnOptions = {}) {
  const cli = spawnCli(args, options);
  const code = await cli.exited();
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}
