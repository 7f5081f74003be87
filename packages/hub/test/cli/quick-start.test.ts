// The README's quick start as a new user does it, in a fresh copy of this repository (its tracked
// and new files, as a clone of this working tree would have them; no node_modules, no dist/):
// `npm install`, `npx ssekit --help`, `npm start`, `npx ssekit pub notifications '...'` with no key
// in the environment while `npx ssekit sub notifications` prints it; then the hub is restarted,
// a token minted by the first run still publishes, and a second `npx ssekit pub` reaches the same
// `sub`, which resumed by itself. `npm install --offline` uses npm's cache and builds better-sqlite3
// from source (g++, make, python3; .ci/run installs them), so no traffic leaves the machine; it
// takes a minute or two (the native build), hence the timeout.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { freePort } from "../../../ssekit/test/support/free-port.js";
import { type CliProcess, REPO_ROOT, spawnCommand } from "../support/cli-process.js";

const dir = mkdtempSync(join(tmpdir(), "ssekit-quick-start-"));
const clone = join(dir, "ssekit");
const running: CliProcess[] = [];
after(async () => {
  for (const child of running) await child.kill();
  rmSync(dir, { recursive: true, force: true });
});

function run(command: string, args: readonly string[], env: Readonly<Record<string, string>> = {}) {
  const child = spawnCommand(command, args, { cwd: clone, env });
  running.push(child);
  return child;
}

async function finished(
  child: CliProcess,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const code = await child.exited();
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** `npm start` until it listens; its hub process id (from the hub's log line) to stop it gracefully. */
async function npmStart(env: Readonly<Record<string, string>>) {
  const hub = run("npm", ["start"], env);
  await hub.waitFor(/ssekit hub listening on (\S+)/);
  const pid = Number((await hub.waitFor(/"pid":(\d+)/))[1]);
  await hub.waitFor(/curl -N/);
  return { hub, pid };
}

before(async () => {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  })
    .split("\0")
    .filter((file) => file !== "");
  for (const file of files) {
    mkdirSync(join(clone, dirname(file)), { recursive: true });
    try {
      cpSync(join(REPO_ROOT, file), join(clone, file));
    } catch (error) {
      // A tracked file deleted in the working tree is not in a clone of it either.
      if ((error as { code?: unknown }).code !== "ENOENT") throw error;
    }
  }
  // build_from_source: better-sqlite3's install script compiles instead of downloading a binary.
  const install = await finished(
    run("npm", ["install", "--offline", "--no-audit", "--no-fund"], { npm_config_build_from_source: "true" }),
  );
  assert.equal(install.code, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);
});

test(
  "README quick start in a fresh copy: npm install, npx ssekit, npm start, pub with no key, sub, restart",
  { timeout: 300_000 },
  async () => {
    const help = await finished(run("npx", ["ssekit", "--help"]));
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: ssekit <command>/);

    const port = await freePort();
    const hubUrl = `http://localhost:${port}/.well-known/mercure`;
    // Only the port differs from the README: 3000 may be taken on a shared machine.
    const first = await npmStart({ SSEKIT_PORT: String(port) });
    assert.match(first.hub.stdout(), /JWT key \(HS256\): made and kept in data\/dev-jwt-key/);
    const bannerToken = first.hub.stdout().match(/publisher JWT[^:]*: (\S+)/)?.[1] ?? "";

    const sub = run("npx", ["ssekit", "sub", "notifications", "--count", "2"], { SSEKIT_HUB_URL: hubUrl });
    await sub.waitFor(/subscribed to notifications/, "stderr");
    const published = await finished(
      run("npx", ["ssekit", "pub", "notifications", '{"title":"Deploy finished","body":"v1.4.2 is live"}'], {
        SSEKIT_HUB_URL: hubUrl,
      }),
    );
    assert.equal(published.code, 0, published.stderr);
    const firstId = published.stdout.trim();
    await sub.waitFor(/Deploy finished/);

    // Restart the hub, as the notifications demo tells the user to.
    process.kill(first.pid, "SIGTERM");
    assert.equal(await first.hub.exited(), 0);
    const second = await npmStart({ SSEKIT_PORT: String(port) });
    assert.match(second.hub.stdout(), /JWT key \(HS256\): kept in data\/dev-jwt-key/);
    const withOldToken = await fetch(hubUrl, {
      method: "POST",
      headers: { authorization: `Bearer ${bannerToken}` },
      body: new URLSearchParams({ topic: "https://example.com/after-restart", data: "old token" }),
    });
    assert.equal(withOldToken.status, 200, "a token minted by the first run still publishes");

    const again = await finished(
      run("npx", ["ssekit", "pub", "notifications", '{"title":"Back again"}'], { SSEKIT_HUB_URL: hubUrl }),
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await sub.exited(), 0, sub.stderr());
    const lines = sub
      .stdout()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: string; data: string });
    assert.deepEqual(
      lines.map((line) => [line.id, JSON.parse(line.data).title]),
      [
        [firstId, "Deploy finished"],
        [again.stdout.trim(), "Back again"],
      ],
    );
    process.kill(second.pid, "SIGTERM");
    assert.equal(await second.hub.exited(), 0);
  },
);

test(
  "where npm left out better-sqlite3 (it could not build), npm start says what to install and a hub on the memory store runs",
  { timeout: 60_000 },
  async () => {
    // What npm does when an optional dependency's build fails: it removes the package and goes on.
    rmSync(join(clone, "node_modules", "better-sqlite3"), { recursive: true, force: true });
    const start = await finished(run("npm", ["start"], { SSEKIT_PORT: String(await freePort()) }));
    assert.notEqual(start.code, 0);
    assert.match(start.stderr, /ssekit hub: better-sqlite3, the hub's SQLite driver, is not installed/);
    assert.match(start.stderr, /build-essential python3/);
    assert.doesNotMatch(start.stderr, /node-gyp|\n\s+at /);
    // Only the SQLite store needs it: a hub on the memory store starts and streams.
    const port = await freePort();
    const memory = run("npx", ["ssekit", "hub", "--store", "memory", "--anonymous", "--port", String(port)]);
    await memory.waitFor(/ssekit hub listening on/);
    // npx runs the hub as its child: stop the hub itself, by the pid in its log line.
    const pid = Number((await memory.waitFor(/"pid":(\d+)/))[1]);
    const controller = new AbortController();
    const stream = await fetch(`http://127.0.0.1:${port}/.well-known/mercure?topic=/no-sqlite`, {
      signal: controller.signal,
    });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get("content-type"), "text/event-stream; charset=utf-8");
    controller.abort();
    process.kill(pid, "SIGTERM");
    assert.equal(await memory.exited(), 0);
  },
);
