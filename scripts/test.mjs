// Runs every *.test.ts under packages/*/test, examples/ and bench/ with Node's own test runner.
// Usage: node scripts/test.mjs [filter...]   (a filter keeps test files whose path contains it)
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const roots = ["packages", "examples", "bench"];

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith(".test.ts")) out.push(relative(root, path));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = roots
  .flatMap((r) => walk(join(root, r), []))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files matched ${filters.join(" ") || "(all)"}`);
  process.exit(1);
}

const concurrency = process.env.SSEKIT_TEST_CONCURRENCY ?? "3";
// A test that never settles (a wait on a server that is gone) fails after this many ms, named,
// instead of holding the whole run until CI's limit; tests that need longer say so themselves.
const timeout = process.env.SSEKIT_TEST_TIMEOUT_MS ?? "600000";
// Node's test runner has --test-timeout since 20.11 and --test-force-exit since 20.14.
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
const since = (a, b) => major > a || (major === a && minor >= b);
const args = [
  "--conditions=ssekit-source",
  "--import",
  "tsx",
  "--test",
  `--test-concurrency=${concurrency}`,
  ...(since(20, 11) ? [`--test-timeout=${timeout}`] : []),
  // A file whose tests are all done ends even if something in it still holds the event loop (a
  // client left reconnecting to a server the file has stopped): reported, not waited for forever.
  ...(since(20, 14) ? ["--test-force-exit"] : []),
  "--test-reporter=spec",
  ...files,
];
const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
