/**
 * The `ssekit` command line as users run it: real child processes, a real hub on 127.0.0.1 port 0,
 * and clients nobody here wrote (the `eventsource` package, fetch, curl) next to `ssekit sub`.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, test } from "node:test";
import { promisify } from "node:util";
import { EventSource } from "eventsource";
import { decodeJwt, jwtVerify } from "jose";
import { type CliProcess, runCli, spawnCli, startHub } from "../support/cli-process.js";
import { selfSignedCertificate } from "../support/tls-support.js";

const KEY = "cli-test-secret-cli-test-secret-0123";
const TOPIC = "https://example.test/books/1";
const dir = mkdtempSync(join(tmpdir(), "ssekit-cli-test-"));
const running: CliProcess[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.kill();
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function hub(args: string[] = [], options: Parameters<typeof startHub>[1] = {}) {
  const started = await startHub(
    ["--port", "0", "--host", "127.0.0.1", "--store", "memory", "--log-level", "warn", ...args],
    options,
  );
  running.push(started);
  return started;
}

function assertUsageError(result: { code: number | string; stderr: string }, mentions: string): void {
  assert.equal(result.code, 2, `exit code 2 expected; stderr: ${result.stderr}`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line expected, got: ${result.stderr}`);
  assert.ok(lines[0]?.includes(mentions), `"${lines[0]}" should name ${mentions}`);
}

describe("ssekit help and usage errors", () => {
  test("each command prints its help and exits 0", { timeout: 30_000 }, async () => {
    for (const command of ["hub", "pub", "sub", "token"]) {
      const result = await runCli([command, "--help"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`Usage: ssekit ${command}`));
    }
    const top = await runCli(["--help"]);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /Commands:/);
  });

  test("an unknown command exits 2 and lists the commands", { timeout: 15_000 }, async () => {
    assertUsageError(await runCli(["serve"]), "hub, pub, sub, token");
  });

  test("a bad flag value stops the hub with exit 2 naming the flag", { timeout: 15_000 }, async () => {
    assertUsageError(await runCli(["hub", "--port", "eighty", "--jwt-key", KEY]), "--port");
  });

  test("an unknown flag exits 2 naming it", { timeout: 15_000 }, async () => {
    assertUsageError(await runCli(["hub", "--prot", "3000"]), "--prot");
  });

  test("a bad environment variable exits 2 naming the variable", { timeout: 15_000 }, async () => {
    const result = await runCli(["hub", "--port", "0", "--jwt-key", KEY], {
      env: { MERCURE_ANONYMOUS: "maybe" },
    });
    assertUsageError(result, "MERCURE_ANONYMOUS");
  });

  test("a bad config file exits 2 naming the file's key", { timeout: 15_000 }, async () => {
    const path = join(dir, "bad.json");
    writeFileSync(path, JSON.stringify({ port: 0, heartbeat: "whenever" }));
    assertUsageError(await runCli(["hub", "--config", path, "--jwt-key", KEY]), '"heartbeat"');
  });

  test(
    "a value the hub core rejects is reported with the flag the user wrote",
    { timeout: 15_000 },
    async () => {
      const result = await runCli([
        "hub",
        "--port",
        "0",
        "--store",
        "memory",
        "--jwt-key",
        KEY,
        "--jwt-alg",
        "XX999",
      ]);
      assertUsageError(result, "--jwt-alg");
    },
  );

  test(
    "a value the hub core rejects is reported with the variable the user set",
    { timeout: 15_000 },
    async () => {
      const result = await runCli(["hub", "--port", "0", "--jwt-key", KEY], {
        env: { SSEKIT_STORE: "carrier-pigeon://" },
      });
      assertUsageError(result, "SSEKIT_STORE");
    },
  );

  test("--tls-cert without --tls-key exits 2 naming both", { timeout: 15_000 }, async () => {
    const cert = join(dir, "cert.pem");
    writeFileSync(cert, "not really a certificate");
    const result = await runCli(["hub", "--port", "0", "--jwt-key", KEY, "--tls-cert", cert]);
    assertUsageError(result, "--tls-key");
  });
});

describe("ssekit token", () => {
  test("mints an HS256 JWT with the Mercure claim and an expiry", { timeout: 15_000 }, async () => {
    const result = await runCli([
      "token",
      "--key",
      KEY,
      "--publish",
      "a",
      "--subscribe",
      "b/{id}",
      "--ttl",
      "2h",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const { payload, protectedHeader } = await jwtVerify(result.stdout.trim(), new TextEncoder().encode(KEY));
    assert.equal(protectedHeader.alg, "HS256");
    assert.deepEqual(payload.mercure, { publish: ["a"], subscribe: ["b/{id}"] });
    const lifetime = (payload.exp ?? 0) - (payload.iat ?? 0);
    assert.equal(lifetime, 7200);
  });

  test(
    "takes the key from MERCURE_PUBLISHER_JWT_KEY and defaults to every topic",
    { timeout: 15_000 },
    async () => {
      const result = await runCli(["token", "--ttl", "0"], { env: { MERCURE_PUBLISHER_JWT_KEY: KEY } });
      assert.equal(result.code, 0, result.stderr);
      const { payload } = await jwtVerify(result.stdout.trim(), new TextEncoder().encode(KEY));
      assert.deepEqual(payload.mercure, { publish: ["*"], subscribe: ["*"] });
      assert.equal(payload.exp, undefined);
    },
  );

  test("without any key exits 2 naming --key", { timeout: 15_000 }, async () => {
    assertUsageError(await runCli(["token"], { cwd: mkdtempSync(join(dir, "nokey-")) }), "--key");
  });

  test(
    "in a folder where a --dev hub ran, signs with the key it kept, which that hub accepts",
    { timeout: 30_000 },
    async () => {
      const cwd = mkdtempSync(join(dir, "devtoken-"));
      const dev = await hub(["--dev", "--store", "sqlite:./data/hub.db"], { cwd });
      const minted = await runCli(["token", "--publish", TOPIC], { cwd });
      assert.equal(minted.code, 0, minted.stderr);
      const published = await fetch(dev.mercure, {
        method: "POST",
        headers: { authorization: `Bearer ${minted.stdout.trim()}` },
        body: new URLSearchParams({ topic: TOPIC, data: "signed with the kept key" }),
      });
      assert.equal(published.status, 200, await published.text());
    },
  );

  test(
    "a key shorter than the algorithm needs exits 2 naming --key and the minimum",
    { timeout: 15_000 },
    async () => {
      const result = await runCli(["token", "--key", "short"]);
      assertUsageError(result, "--key");
      assert.match(result.stderr, /HS256 secret must be at least 32 bytes \(got 5\)/);
      assertUsageError(await runCli(["token", "--key", KEY, "--alg", "HS512"]), "64 bytes");
    },
  );
});

describe("ssekit hub, pub and sub", () => {
  test(
    "pub prints the id and sub prints the update as a JSON line when piped",
    { timeout: 30_000 },
    async () => {
      const server = await hub(["--jwt-key", KEY, "--anonymous"]);
      const sub = spawnCli(["sub", TOPIC, "--hub", server.mercure, "--count", "2"]);
      running.push(sub);
      await sub.waitFor(/subscribed to/, "stderr");

      const first = await runCli(["pub", TOPIC, "hello\nworld", "--hub", server.mercure, "--key", KEY]);
      assert.equal(first.code, 0, first.stderr);
      const firstId = first.stdout.trim();
      assert.ok(firstId.length > 0, "the hub's id is printed");
      const second = await runCli(["pub", TOPIC, "-", "--type", "review", "--id", "review-7", "--key", KEY], {
        env: { SSEKIT_HUB_URL: server.mercure },
        input: '{"stars":5}',
      });
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout.trim(), "review-7");

      assert.equal(await sub.exited(), 0, sub.stderr());
      const lines = sub
        .stdout()
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      assert.deepEqual(lines, [
        { id: firstId, type: "message", data: "hello\nworld" },
        { id: "review-7", type: "review", data: '{"stars":5}' },
      ]);
    },
  );

  test("sub --last-event-id with a non-ASCII id resumes after it", { timeout: 30_000 }, async () => {
    const server = await hub(["--jwt-key", KEY, "--anonymous"]);
    for (const [data, id] of [
      ["one", "\u2603\u20ac"],
      ["two", "caf\u00e9"],
    ] as const) {
      const result = await runCli(["pub", TOPIC, data, "--id", id, "--hub", server.mercure, "--key", KEY]);
      assert.equal(result.code, 0, result.stderr);
    }
    const sub = await runCli([
      "sub",
      TOPIC,
      "--hub",
      server.mercure,
      "--last-event-id",
      "\u2603\u20ac",
      "--count",
      "1",
    ]);
    assert.equal(sub.code, 0, sub.stderr);
    assert.deepEqual(JSON.parse(sub.stdout), { type: "message", id: "caf\u00e9", data: "two" });
  });

  test("sub --last-event-id earliest replays the history", { timeout: 30_000 }, async () => {
    const server = await hub(["--jwt-key", KEY, "--anonymous"]);
    for (const data of ["one", "two"]) {
      const result = await runCli(["pub", TOPIC, data, "--hub", server.mercure, "--key", KEY]);
      assert.equal(result.code, 0, result.stderr);
    }
    const sub = await runCli([
      "sub",
      TOPIC,
      "--hub",
      server.mercure,
      "--last-event-id",
      "earliest",
      "--count",
      "2",
    ]);
    assert.equal(sub.code, 0, sub.stderr);
    const data = sub.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line).data);
    assert.deepEqual(data, ["one", "two"]);
  });

  test(
    "pub with no token and no key: a --dev hub on this machine gives one; another hub is named in the error",
    { timeout: 30_000 },
    async () => {
      const cwd = mkdtempSync(join(dir, "devpub-"));
      const dev = await hub(["--dev", "--store", `sqlite:${join(cwd, "data", "hub.db")}`], { cwd });
      const published = await runCli(["pub", TOPIC, "no key needed", "--hub", dev.mercure]);
      assert.equal(published.code, 0, published.stderr);
      assert.match(published.stdout, /^urn:uuid:/);
      const plain = await hub(["--jwt-key", KEY]);
      const refused = await runCli(["pub", TOPIC, "x", "--hub", plain.mercure]);
      assertUsageError(refused, "--token or --key is required");
      assert.match(refused.stderr, /is not in --dev mode/);
    },
  );

  test("pub with the wrong key exits 1 with the hub's status", { timeout: 30_000 }, async () => {
    const server = await hub(["--jwt-key", KEY]);
    const result = await runCli([
      "pub",
      TOPIC,
      "x",
      "--hub",
      server.mercure,
      "--key",
      "not-the-key-not-the-key-000000",
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /401/);
  });

  test(
    "sub to a hub without anonymous access needs a key, and --key works",
    { timeout: 30_000 },
    async () => {
      const server = await hub(["--jwt-key", KEY]);
      const refused = await runCli(["sub", TOPIC, "--hub", server.mercure, "--count", "1"]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /401/);

      const sub = spawnCli(["sub", TOPIC, "--hub", server.mercure, "--count", "1", "--key", KEY]);
      running.push(sub);
      await sub.waitFor(/subscribed to/, "stderr");
      const pub = await runCli([
        "pub",
        TOPIC,
        "private hello",
        "--private",
        "--hub",
        server.mercure,
        "--key",
        KEY,
      ]);
      assert.equal(pub.code, 0, pub.stderr);
      assert.equal(await sub.exited(), 0);
      assert.equal(JSON.parse(sub.stdout()).data, "private hello");
    },
  );

  test("SIGTERM sends subscribers a retry, ends their streams and exits 0", { timeout: 30_000 }, async () => {
    const server = await hub(["--jwt-key", KEY, "--anonymous"]);
    const response = await fetch(`${server.mercure}?topic=${encodeURIComponent(TOPIC)}`);
    assert.equal(response.status, 200);
    const body = response.body;
    assert.ok(body);
    const reading = (async () => {
      let text = "";
      const decoder = new TextDecoder();
      for (const reader = body.getReader(); ; ) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    })();
    server.child.kill("SIGTERM");
    const text = await reading;
    assert.match(text, /^retry: ?\d+$/m, "a retry hint before the stream ends");
    assert.equal(await server.exited(), 0, server.stderr());
  });

  test("listens with TLS on HTTP/2 and HTTP/1.1", { timeout: 30_000 }, async (t) => {
    const certificate = selfSignedCertificate();
    t.after(() => certificate.dispose());
    const { certPath: cert, keyPath: key } = certificate;
    const server = await hub(["--jwt-key", KEY, "--anonymous", "--tls-cert", cert, "--tls-key", key]);
    assert.match(server.url, /^https:/);
    const curl = (flag: string) =>
      promisify(execFile)("curl", [
        "-sk",
        flag,
        "-o",
        "/dev/null",
        "-w",
        "%{http_version} %{http_code}",
        `${server.url}/healthz`,
      ]);
    assert.equal((await curl("--http2")).stdout, "2 200");
    assert.equal((await curl("--http1.1")).stdout, "1.1 200");
  });
});

describe("ssekit hub --dev", () => {
  test(
    "prints a working publisher JWT and lets anonymous clients subscribe",
    { timeout: 30_000 },
    async () => {
      const cwd = mkdtempSync(join(dir, "dev-"));
      const server = await hub(["--dev", "--port", "0"], { cwd });
      const banner = await server.waitFor(/publisher JWT[^:]*: (\S+)/);
      const jwt = banner[1] ?? "";
      const payload = decodeJwt(jwt);
      assert.deepEqual(payload.mercure, { publish: ["*"] });
      await server.waitFor(/curl -N/);

      const source = new EventSource(`${server.mercure}?topic=${encodeURIComponent(TOPIC)}`);
      try {
        const opened = new Promise<void>((resolve, reject) => {
          source.onopen = () => resolve();
          source.onerror = () => reject(new Error("the eventsource package could not subscribe anonymously"));
        });
        const received = new Promise<string>((resolve) => {
          source.onmessage = (event) => resolve(event.data);
        });
        await opened;
        const published = await fetch(server.mercure, {
          method: "POST",
          headers: { authorization: `Bearer ${jwt}` },
          body: new URLSearchParams({ topic: TOPIC, data: "from the dev banner" }),
        });
        assert.equal(published.status, 200, await published.clone().text());
        assert.equal(await received, "from the dev banner");
      } finally {
        source.close();
      }
    },
  );
});
