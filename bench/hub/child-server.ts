/**
 * A server under test in a child process (the hub, the bare form server, the ssekit/server app):
 * started with the open-file limit raised, ready once it prints the URL it listens on, and stopped
 * with SIGTERM (SIGKILL after 5 s). Not responsible for what the server does.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import type { Server } from "node:http";
import { spawnWithFileLimit } from "./subscribers.js";

/**
 * Runs `args` and resolves with the child and the URL its stdout names after `listening`
 * (a pattern whose first group is the URL); rejects with its output if it exits first.
 */
export async function startChildServer(
  args: readonly string[],
  listening: RegExp,
  what: string,
): Promise<{ readonly child: ChildProcess; readonly url: URL }> {
  const child = spawnWithFileLimit(args);
  let output = "";
  const url = await new Promise<URL>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = listening.exec(output);
      if (match?.[1]) {
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolve(new URL(match[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.once("exit", (code) => reject(new Error(`${what} exited (${code}) before listening:\n${output}`)));
  });
  return { child, url };
}

/** Stops the child with SIGTERM, and SIGKILL if it is still there 5 s later. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The child's side: listens on a free loopback port and prints `<what> listening on <url>`, what
 * `startChildServer` waits for; SIGTERM ends the process.
 */
export function listenInChild(server: Server, what: string): void {
  server.listen(0, "127.0.0.1", 4096, () => {
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    console.log(`${what} listening on http://127.0.0.1:${port}`);
  });
  process.on("SIGTERM", () => process.exit(0));
}
