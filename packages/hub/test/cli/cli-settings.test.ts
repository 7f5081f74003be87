import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { CliUsageError } from "../../src/cli/errors.js";
import { planHub } from "../../src/cli/plan.js";
import { nameSetting, type ResolvedSettings } from "../../src/cli/resolve.js";
import { parseBoolean, parseDuration, parseInteger, parseList } from "../../src/cli/values.js";

const dir = mkdtempSync(join(tmpdir(), "ssekit-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

function plan(argv: string[], env: Record<string, string> = {}): ResolvedSettings {
  const result = planHub(argv, env);
  assert.notEqual(result, "help");
  if (result === "help") throw new Error("unreachable");
  return result.settings;
}

function usageError(fn: () => unknown, mentions: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof CliUsageError, `expected CliUsageError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.ok(error.message.includes(mentions), `"${error.message}" should mention ${mentions}`);
    assert.ok(!error.message.includes("\n"), "the message is one line");
    return true;
  });
}

describe("values", () => {
  test("durations take ms, s, m, h, d units and bare milliseconds", () => {
    assert.equal(parseDuration("500ms", "x"), 500);
    assert.equal(parseDuration("15s", "x"), 15_000);
    assert.equal(parseDuration("1.5m", "x"), 90_000);
    assert.equal(parseDuration("2h", "x"), 7_200_000);
    assert.equal(parseDuration("7d", "x"), 604_800_000);
    assert.equal(parseDuration("250", "x"), 250);
    usageError(() => parseDuration("soon", "--heartbeat"), "--heartbeat");
    usageError(() => parseDuration("-5s", "--heartbeat"), "--heartbeat");
  });

  test("integers reject signs, fractions and values out of range", () => {
    assert.equal(parseInteger("42", "x"), 42);
    usageError(() => parseInteger("4.2", "--n"), "--n");
    usageError(() => parseInteger("-1", "--n"), "--n");
    usageError(() => parseInteger("70000", "--port", 0, 65535), "65535");
  });

  test("booleans accept the usual spellings and reject others", () => {
    for (const t of ["1", "true", "YES", "on"]) assert.equal(parseBoolean(t, "x"), true);
    for (const f of ["0", "false", "No", "off", ""]) assert.equal(parseBoolean(f, "x"), false);
    usageError(() => parseBoolean("maybe", "MERCURE_ANONYMOUS"), "MERCURE_ANONYMOUS");
  });

  test("lists split on commas and whitespace across repeated values", () => {
    assert.deepEqual(parseList(["https://a.test,https://b.test", "https://c.test  https://d.test"]), [
      "https://a.test",
      "https://b.test",
      "https://c.test",
      "https://d.test",
    ]);
  });
});

describe("ssekit hub settings", () => {
  test("defaults to port 3000 with nothing configured", () => {
    const settings = plan([]);
    assert.equal(settings.port?.value, 3000);
    assert.equal(settings.port?.origin.kind, "default");
    assert.equal(settings.anonymous, undefined);
  });

  test("--no-subscriptions and SSEKIT_NO_SUBSCRIPTIONS turn subscription events and the API off", async () => {
    const { toHubConfigInput } = await import("../../src/cli/hub-config.js");
    assert.equal(toHubConfigInput(plan(["--no-subscriptions"]), false).subscriptions, false);
    assert.equal(toHubConfigInput(plan([], { SSEKIT_NO_SUBSCRIPTIONS: "1" }), false).subscriptions, false);
    assert.equal(toHubConfigInput(plan([]), false).subscriptions, undefined);
  });

  test("reads every flag", () => {
    const settings = plan([
      "--port=0",
      "--host",
      "127.0.0.1",
      "--store",
      "memory",
      "--anonymous",
      "--resource-identifier",
      "https://hub.test/.well-known/mercure",
      "--cors",
      "https://a.test",
      "--cors",
      "https://b.test,https://c.test",
      "--publisher-jwt-key",
      "pub",
      "--subscriber-jwt-key",
      "sub",
      "--jwt-alg",
      "HS512",
      "--jwks-url",
      "https://idp.test/jwks.json",
      "--history-max-events",
      "1000",
      "--history-max-age",
      "24h",
      "--heartbeat",
      "15s",
      "--log-level",
      "warn",
    ]);
    assert.equal(settings.port?.value, 0);
    assert.equal(settings.host?.value, "127.0.0.1");
    assert.equal(settings.store?.value, "memory");
    assert.equal(settings.anonymous?.value, true);
    assert.equal(settings.resourceIdentifier?.value, "https://hub.test/.well-known/mercure");
    assert.deepEqual(settings.corsOrigins?.value, ["https://a.test", "https://b.test", "https://c.test"]);
    assert.equal(settings.publisherJwtKey?.value, "pub");
    assert.equal(settings.subscriberJwtKey?.value, "sub");
    assert.equal(settings.publisherJwtAlg?.value, "HS512");
    assert.equal(settings.subscriberJwtAlg?.value, "HS512");
    assert.equal(settings.jwksUrl?.value, "https://idp.test/jwks.json");
    assert.equal(settings.historyMaxEvents?.value, 1000);
    assert.equal(settings.historyMaxAge?.value, 86_400_000);
    assert.equal(settings.heartbeat?.value, 15_000);
    assert.equal(settings.logLevel?.value, "warn");
  });

  test("reads the Mercure environment names, MERCURE_JWT_KEY as the fallback for both keys", () => {
    const settings = plan([], {
      MERCURE_JWT_KEY: "shared",
      MERCURE_SUBSCRIBER_JWT_KEY: "sub-only",
      MERCURE_PUBLISHER_JWT_ALG: "HS384",
      MERCURE_CORS_ALLOWED_ORIGINS: "https://a.test https://b.test",
      MERCURE_ANONYMOUS: "1",
    });
    assert.equal(settings.publisherJwtKey?.value, "shared");
    assert.deepEqual(settings.publisherJwtKey?.origin, { kind: "env", variable: "MERCURE_JWT_KEY" });
    assert.equal(settings.subscriberJwtKey?.value, "sub-only");
    assert.equal(settings.publisherJwtAlg?.value, "HS384");
    assert.equal(settings.subscriberJwtAlg, undefined);
    assert.deepEqual(settings.corsOrigins?.value, ["https://a.test", "https://b.test"]);
    assert.equal(settings.anonymous?.value, true);
  });

  test("flags win over environment, which wins over the config file", () => {
    const path = configFile("precedence.json", { port: 1111, store: "memory", publisherJwtKey: "from-file" });
    const settings = plan(["--config", path, "--port", "3333"], {
      SSEKIT_PORT: "2222",
      MERCURE_PUBLISHER_JWT_KEY: "from-env",
    });
    assert.equal(settings.port?.value, 3333);
    assert.equal(settings.publisherJwtKey?.value, "from-env");
    assert.equal(settings.store?.value, "memory");
    assert.deepEqual(settings.store?.origin, { kind: "file", path, key: "store" });
  });

  test("a specific flag wins over the shared --jwt-key", () => {
    const settings = plan(["--jwt-key", "both", "--subscriber-jwt-key", "mine"]);
    assert.equal(settings.publisherJwtKey?.value, "both");
    assert.equal(settings.subscriberJwtKey?.value, "mine");
  });

  test("the config file accepts numbers, strings, booleans and arrays", () => {
    const path = configFile("types.json", {
      port: "4000",
      heartbeat: 2500,
      historyMaxAge: "1h",
      anonymous: true,
      corsOrigins: ["https://a.test", "https://b.test"],
    });
    const settings = plan(["--config", path]);
    assert.equal(settings.port?.value, 4000);
    assert.equal(settings.heartbeat?.value, 2500);
    assert.equal(settings.historyMaxAge?.value, 3_600_000);
    assert.equal(settings.anonymous?.value, true);
    assert.deepEqual(settings.corsOrigins?.value, ["https://a.test", "https://b.test"]);
  });

  test("bad flags and values name the flag", () => {
    usageError(() => plan(["--port", "http"]), "--port");
    usageError(() => plan(["--port", "99999"]), "--port");
    usageError(() => plan(["--heartbeat", "often"]), "--heartbeat");
    usageError(() => plan(["--history-max-events", "-3"]), "--history-max-events");
    usageError(() => plan(["--no-such-flag"]), "--no-such-flag");
    usageError(() => plan(["--port"]), "--port");
    usageError(() => plan(["stray"]), "stray");
  });

  test("bad environment values name the variable", () => {
    usageError(() => plan([], { MERCURE_ANONYMOUS: "perhaps" }), "MERCURE_ANONYMOUS");
    usageError(() => plan([], { SSEKIT_PORT: "eighty" }), "SSEKIT_PORT");
    usageError(() => plan([], { SSEKIT_HEARTBEAT: "1 minute" }), "SSEKIT_HEARTBEAT");
  });

  test("a bad config file names the file and the key", () => {
    usageError(() => plan(["--config", join(dir, "missing.json")]), "missing.json");
    usageError(() => plan(["--config", configFile("broken.json", "{ port: ")]), "not valid JSON");
    usageError(() => plan(["--config", configFile("array.json", [1])]), "JSON object");
    usageError(() => plan(["--config", configFile("unknown.json", { prot: 3000 })]), '"prot"');
    usageError(() => plan(["--config", configFile("type.json", { anonymous: "yes" })]), '"anonymous"');
    usageError(() => plan(["--config", configFile("value.json", { heartbeat: "soon" })]), '"heartbeat"');
  });

  test("--dev keeps one key for both roles next to its SQLite file, enables anonymous and SQLite under ./data", () => {
    const asked: string[] = [];
    const result = planHub(["--dev"], {}, (file) => {
      asked.push(file);
      return { key: "k".repeat(86), file, created: true };
    });
    assert.notEqual(result, "help");
    if (result === "help") return;
    assert.equal(result.dev, true);
    assert.deepEqual(asked, [join("data", "dev-jwt-key")]);
    assert.equal(result.settings.publisherJwtKey?.value, "k".repeat(86));
    assert.equal(result.settings.subscriberJwtKey?.value, "k".repeat(86));
    assert.equal(result.settings.anonymous?.value, true);
    assert.equal(result.settings.store?.value, "sqlite:./data/ssekit-hub.db");
    assert.equal(result.settings.port?.value, 3000);
  });

  test("--dev makes its key once (0600) and finds it on the next start, so tokens survive restarts", () => {
    const store = `sqlite:${join(dir, "devdata", "hub.db")}`;
    const first = planHub(["--dev", "--store", store], {});
    const again = planHub(["--dev", "--store", store], {});
    assert.ok(first !== "help" && again !== "help");
    const file = join(dir, "devdata", "dev-jwt-key");
    assert.deepEqual({ file: first.devKey?.file, created: first.devKey?.created }, { file, created: true });
    assert.ok(first.devKey && first.devKey.key.length >= 86, "64 random bytes");
    assert.equal(again.devKey?.key, first.devKey?.key);
    assert.equal(again.devKey?.created, false);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    writeFileSync(file, "not a key\n");
    usageError(() => planHub(["--dev", "--store", store], {}), "dev-jwt-key: not a key this hub made");
  });

  test("--dev keeps a configured key and store", () => {
    const result = planHub(["--dev", "--store", "memory"], { MERCURE_JWT_KEY: "mine" });
    assert.ok(result !== "help");
    assert.equal(result.devKey, undefined);
    assert.equal(result.settings.publisherJwtKey?.value, "mine");
    assert.equal(result.settings.store?.value, "memory");
  });

  test("--help is recognised", () => {
    assert.equal(planHub(["--help"], {}), "help");
    assert.equal(planHub(["-h"], {}), "help");
  });

  test("names a setting by where the user set it, or by its flag and variable", () => {
    const path = configFile("names.json", { heartbeat: "5s" });
    const settings = plan(["--config", path, "--jwt-key", "k"], { MERCURE_ANONYMOUS: "1" });
    assert.equal(nameSetting(settings, "publisherJwtKey"), "--jwt-key");
    assert.equal(nameSetting(settings, "anonymous"), "MERCURE_ANONYMOUS");
    assert.equal(nameSetting(settings, "heartbeat"), `"heartbeat" in ${path}`);
    assert.equal(nameSetting(settings, "store"), "--store or SSEKIT_STORE");
  });
});
