/**
 * Runs every README.md code block whose info string is exactly `ts test`, each as a standalone
 * ES module (with the workspace's package names resolvable), and requires it to exit with 0.
 * A block marked `ts test redis` gets a real redis-server of its own, its URL in `REDIS_URL`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { RedisServer } from "../../redis/test/support/redis-server.js";

const root = new URL("../../../", import.meta.url).pathname;
const readme = readFileSync(join(root, "README.md"), "utf8");
// Inside the repository (and git-ignored) so that `ssekit/...` resolves through node_modules.
const dir = join(root, ".tmp", `readme-${process.pid}`);

interface Block {
  readonly heading: string;
  readonly line: number;
  readonly code: string;
  readonly redis: boolean;
}

function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  let heading = "(top)";
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.startsWith("#")) heading = line.replace(/^#+\s*/, "");
    const info = line.trim();
    if (info === "```ts test" || info === "```ts test redis") {
      const start = i + 1;
      let end = start;
      while (end < lines.length && lines[end]?.trim() !== "```") end++;
      found.push({
        heading,
        line: start,
        code: lines.slice(start, end).join("\n"),
        redis: info.endsWith("redis"),
      });
      i = end;
    }
  }
  return found;
}

function run(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--conditions=ssekit-source", "--import", "tsx", file], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const examples = blocks(readme);

describe("README examples", () => {
  mkdirSync(dir, { recursive: true });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the README has runnable examples", () => {
    assert.ok(examples.length > 0);
  });

  for (const [index, block] of examples.entries()) {
    test(`${block.heading} (README.md line ${block.line})`, { timeout: 30_000 }, async () => {
      const file = join(dir, `example-${index}.ts`);
      writeFileSync(file, block.code);
      const redis = block.redis ? await RedisServer.start() : undefined;
      try {
        const env = redis ? { ...process.env, REDIS_URL: redis.url } : process.env;
        const { code, output } = await run(file, env);
        assert.equal(code, 0, `example at README.md line ${block.line} failed:\n${output}`);
      } finally {
        await redis?.stop();
      }
    });
  }
});
