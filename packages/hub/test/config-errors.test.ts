// Configuration that cannot work stops start-up with a message naming the setting, whether it
// reaches the core through `createHub` or the command line (flag, variable, config file), and
// never as a stack trace or as a hub that starts and fails at its first client.
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { hubCommand } from "../src/cli/commands/hub.js";
import { CliUsageError } from "../src/cli/errors.js";
import type { CommandIo } from "../src/cli/io.js";
import { planHub } from "../src/cli/plan.js";
import { ConfigError, createHub, type HubConfigInput, resolveConfig } from "../src/index.js";
import { runCli } from "./support/cli-process.js";
import { type Certificate, selfSignedCertificate } from "./support/tls-support.js";

const KEY = "config-errors-secret-config-errors-secret";
const dir = mkdtempSync(join(tmpdir(), "ssekit-config-errors-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function configError(input: HubConfigInput, setting: string, reason: RegExp): void {
  assert.throws(
    () => resolveConfig({ logLevel: "silent", ...input }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
      assert.equal(error.setting, setting);
      assert.match(error.message, reason);
      return true;
    },
  );
}

/** Runs `ssekit hub ARGV` in-process; it must fail with a one-line usage error naming `mentions`. */
async function hubUsageError(argv: string[], env: Record<string, string>, mentions: string): Promise<string> {
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  const io: CommandIo = { stdout: sink, stderr: sink, env };
  let caught: unknown;
  try {
    await hubCommand(["--port", "0", "--log-level", "silent", ...argv], io);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof CliUsageError, `expected CliUsageError, got ${String(caught)}`);
  assert.equal(caught.exitCode, 2);
  assert.ok(caught.message.includes(mentions), `"${caught.message}" should name ${mentions}`);
  return caught.message;
}

let cert = "";
let key = "";
let otherKey = "";
const certificates: Certificate[] = [];
before(() => {
  const one = selfSignedCertificate();
  const two = selfSignedCertificate();
  certificates.push(one, two);
  cert = one.certPath;
  key = one.keyPath;
  otherKey = two.keyPath;
});
after(() => {
  for (const certificate of certificates) certificate.dispose();
});

describe("resolveConfig refuses what could not work", () => {
  test("publishOrigins * is refused: any site could publish with its visitors' cookies", () => {
    configError({ publishOrigins: ["*"] }, "publishOrigins", /must not be \*/);
    // cors * stays allowed, without credentials, and does not open cookie publishing to every site.
    assert.deepEqual(resolveConfig({ logLevel: "silent", cors: ["*", "https://a.test"] }).publishOrigins, [
      "https://a.test",
    ]);
  });

  test("an HMAC secret shorter than its hash output (RFC 7518: 32, 48, 64 bytes) names the setting", () => {
    configError(
      { publisherJwtKey: "short" },
      "publisherJwtKey",
      /HS256 secret must be at least 32 bytes \(got 5\)/,
    );
    configError(
      { publisherJwtKey: "x".repeat(40), publisherJwtAlg: "HS384" },
      "publisherJwtKey",
      /HS384 secret must be at least 48 bytes \(got 40\)/,
    );
    configError(
      { subscriberKey: { alg: "HS512", secret: "y".repeat(63) } },
      "subscriberKey",
      /HS512 secret must be at least 64 bytes/,
    );
    assert.deepEqual(resolveConfig({ publisherJwtKey: "z".repeat(32), logLevel: "silent" }).publisherKey, {
      alg: "HS256",
      secret: "z".repeat(32),
    });
  });

  test("a PEM public key that does not parse is refused at start-up, not at the first token", () => {
    const junk = "-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n";
    configError(
      { publisherJwtKey: junk, publisherJwtAlg: "RS256" },
      "publisherJwtKey",
      /not a readable PEM public key/,
    );
    configError({ subscriberKey: { alg: "ES256", publicKey: junk } }, "subscriberKey", /not a readable PEM/);
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    assert.deepEqual(
      resolveConfig({ publisherJwtKey: pem, publisherJwtAlg: "ES256", logLevel: "silent" }).publisherKey,
      { alg: "ES256", publicKey: pem },
    );
  });

  test("a JWKS URL that is not an absolute http(s) URL is refused, even when a fixed key takes precedence", () => {
    configError({ jwksUrl: "http://" }, "jwksUrl", /absolute http\(s\) URL/);
    configError({ jwksUrl: "ftp://keys.example/jwks.json" }, "jwksUrl", /absolute http\(s\) URL/);
    configError({ publisherJwtKey: KEY, jwksUrl: "not a url" }, "jwksUrl", /got "not a url"/);
  });

  test("a delay longer than node's longest timer is refused instead of firing every millisecond", () => {
    configError({ heartbeatMs: 2_592_000_000 }, "heartbeatMs", /at most 2147483647 ms/);
    configError({ maxPollTimeoutMs: 2 ** 31 }, "maxPollTimeoutMs", /at most 2147483647 ms/);
    configError({ bodyTimeoutMs: 0 }, "bodyTimeoutMs", /positive integer/);
  });

  test("a TLS certificate or key that does not load, or a key of another certificate, names tls.cert or tls.key", () => {
    const [c, k, other] = [cert, key, otherKey].map((path) => readFileSync(path, "utf8"));
    assert.ok(c !== undefined && k !== undefined && other !== undefined);
    const garbage = "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n";
    configError({ tls: { cert: garbage, key: k } }, "tls.cert", /certificate cannot be read/);
    configError({ tls: { cert: k, key: k } }, "tls.cert", /certificate cannot be read/);
    configError({ tls: { cert: c, key: c } }, "tls.key", /private key cannot be read/);
    configError({ tls: { cert: c, key: other } }, "tls.key", /does not belong to the certificate/);
    assert.ok(resolveConfig({ tls: { cert: c, key: k }, logLevel: "silent" }).tls);
  });

  test("a SQLite store that cannot be opened is a ConfigError naming store", () => {
    const notDatabase = file(
      "not-a-database.db",
      "this is not an SQLite file, it is plain text\n".repeat(20),
    );
    assert.throws(
      () => createHub({ store: `sqlite:${notDatabase}`, logger: "silent", ui: false }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.setting === "store" &&
        /cannot open the SQLite database .*not-a-database\.db/.test(error.message),
    );
  });
});

describe("ssekit hub names what the user wrote", () => {
  test(
    "each wrong value stops start-up with a usage error naming its flag or variable",
    { timeout: 30_000 },
    async () => {
      const notDatabase = file("plain.db", "plain text, not SQLite\n".repeat(20));
      const aFile = file("a-file", "x");
      const junkPem = "-----BEGIN PUBLIC KEY-----\njunk\n-----END PUBLIC KEY-----";
      await hubUsageError(["--jwt-key", "tiny"], {}, "--jwt-key");
      await hubUsageError([], { MERCURE_PUBLISHER_JWT_KEY: "tiny" }, "MERCURE_PUBLISHER_JWT_KEY");
      await hubUsageError(
        [],
        { MERCURE_PUBLISHER_JWT_KEY: junkPem, MERCURE_PUBLISHER_JWT_ALG: "RS256" },
        "MERCURE_PUBLISHER_JWT_KEY",
      );
      await hubUsageError(["--jwt-key", KEY, "--jwks-url", "http://"], {}, "--jwks-url");
      await hubUsageError(["--jwt-key", KEY], { MERCURE_JWKS_URL: "nope" }, "MERCURE_JWKS_URL");
      await hubUsageError(["--jwt-key", KEY, "--heartbeat", "30d"], {}, "--heartbeat");
      await hubUsageError(["--jwt-key", KEY, "--tls-cert", cert, "--tls-key", otherKey], {}, "--tls-key");
      await hubUsageError(["--jwt-key", KEY, "--tls-cert", key, "--tls-key", key], {}, "--tls-cert");
      await hubUsageError(["--jwt-key", KEY, "--store", `sqlite:${notDatabase}`], {}, "--store");
      const inTheWay = await hubUsageError(
        ["--jwt-key", KEY],
        { SSEKIT_STORE: `sqlite:${aFile}/hub.db` },
        "SSEKIT_STORE",
      );
      assert.match(inTheWay, /a file that is not a directory is in the way/);
      await hubUsageError(
        ["--jwt-key", KEY, "--tls-cert", join(dir, "none.pem"), "--tls-key", key],
        {},
        "--tls-cert",
      );
      await hubUsageError(["--jwt-key", KEY, "--tls-cert", cert, "--tls-key", dir], {}, "--tls-key");
      await hubUsageError(
        [],
        { MERCURE_JWT_KEY: KEY, MERCURE_PUBLISHER_JWT_ALG: "none" },
        "MERCURE_PUBLISHER_JWT_ALG",
      );
      await hubUsageError(
        [],
        { MERCURE_JWT_KEY: KEY, MERCURE_CORS_ALLOWED_ORIGINS: "https://ok.example bad" },
        "MERCURE_CORS_ALLOWED_ORIGINS",
      );
      await hubUsageError([], { MERCURE_JWT_KEY: KEY, MERCURE_HEARTBEAT: "30d" }, "MERCURE_HEARTBEAT");
    },
  );

  test("MERCURE_ and SSEKIT_ variables that no command reads are warned about, not silently ignored", async () => {
    let stderr = "";
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    const errors = {
      write: (chunk: string) => {
        stderr += chunk;
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    const env = {
      MERCURE_EXTRA_DIRECTIVES: "anonymous",
      SSEKIT_PROT: "3000",
      SSEKIT_HUB_URL: "http://localhost:3000/.well-known/mercure",
      MERCURE_JWT_KEY: "tiny",
    };
    // The key is too short, so the command stops after warning, before it would listen.
    await assert.rejects(hubCommand(["--port", "0"], { stdout: sink, stderr: errors, env }), CliUsageError);
    assert.match(stderr, /ignoring MERCURE_EXTRA_DIRECTIVES, which is not a setting of this hub/);
    assert.match(stderr, /ignoring SSEKIT_PROT/);
    assert.doesNotMatch(stderr, /SSEKIT_HUB_URL|MERCURE_JWT_KEY/);
  });

  test("a flag value starting with a dash explains how to pass it", () => {
    assert.throws(
      () => planHub(["--port", "-1"], {}),
      (error: unknown) =>
        error instanceof CliUsageError && /--port=-XYZ/.test(error.message) && !error.message.includes("\n"),
    );
  });

  test("a missing config file from SSEKIT_CONFIG names SSEKIT_CONFIG, and a YAML file says YAML is not supported", () => {
    assert.throws(
      () => planHub([], { SSEKIT_CONFIG: join(dir, "missing.json") }),
      (error: unknown) =>
        error instanceof CliUsageError && error.message.startsWith("SSEKIT_CONFIG: cannot read"),
    );
    const yaml = file("hub.yaml", "port: 3000\nstore: memory\n");
    assert.throws(
      () => planHub(["--config", yaml], {}),
      (error: unknown) => error instanceof CliUsageError && /YAML is not supported/.test(error.message),
    );
  });

  test(
    "a port already in use exits 1 with one line naming --port and --host",
    { timeout: 20_000 },
    async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
      try {
        const address = taken.address();
        const port = typeof address === "object" && address !== null ? address.port : 0;
        const result = await runCli([
          "hub",
          "--port",
          String(port),
          "--host",
          "127.0.0.1",
          "--jwt-key",
          KEY,
          "--store",
          "memory",
        ]);
        assert.equal(result.code, 1, result.stderr);
        const lines = result.stderr.trim().split("\n");
        assert.equal(lines.length, 1, result.stderr);
        assert.match(lines[0] ?? "", /cannot listen \(.*EADDRINUSE.*\); check --port and --host/);
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
    },
  );

  test(
    "the ssekit process prints one line and exits 2, without a stack trace, for a store that cannot be opened",
    { timeout: 20_000 },
    async () => {
      const notDatabase = file("process.db", "plain text, not SQLite\n".repeat(20));
      const result = await runCli([
        "hub",
        "--port",
        "0",
        "--jwt-key",
        KEY,
        "--store",
        `sqlite:${notDatabase}`,
      ]);
      assert.equal(result.code, 2, result.stderr);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0] ?? "", /^--store: .*cannot open the SQLite database/);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    },
  );
});
