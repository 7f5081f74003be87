import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, resolveConfig } from "../src/config.js";

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("resolveConfig", () => {
  test("a resolved config is a valid input and resolves to the same settings (one config shape)", () => {
    const inputs = [
      { logLevel: "silent" },
      {
        logLevel: "silent",
        publisherJwtKey: "a-secret-that-is-at-least-32-bytes-long!",
        corsOrigins: ["*", "https://a.test"],
        store: "memory",
        historyMaxEvents: 10,
        maxPollBytes: 1000,
        anonymous: true,
      },
    ];
    for (const input of inputs) {
      const once = resolveConfig(input);
      const twice = resolveConfig(once);
      assert.deepEqual({ ...twice, logger: undefined }, { ...once, logger: undefined });
      assert.equal(twice.logger, once.logger);
    }
  });

  test("applies the documented defaults", () => {
    const config = resolveConfig({ logLevel: "silent" });
    assert.deepEqual(config.store, { kind: "sqlite", path: "./data/ssekit-hub.db" });
    assert.equal(config.historyMaxEvents, 100_000);
    assert.equal(config.historyMaxAgeMs, 86_400_000);
    assert.equal(config.anonymous, false);
    assert.deepEqual(config.cors, []);
    assert.equal(config.subscriptions, true);
    assert.equal(config.heartbeatMs, 15_000);
    assert.equal(config.maxBodyBytes, 1_048_576);
    assert.equal(config.maxPollTimeoutMs, 30_000);
    assert.equal(config.ui, true);
    assert.equal(config.publisherKey, undefined);
  });

  test("the subscriber key defaults to the publisher key", () => {
    const secret = "k".repeat(32);
    const config = resolveConfig({ publisherJwtKey: secret, logLevel: "silent" });
    assert.deepEqual(config.publisherKey, { alg: "HS256", secret });
    assert.deepEqual(config.subscriberKey, config.publisherKey);
  });

  test("reads the flat store forms", () => {
    assert.deepEqual(resolveConfig({ store: "memory", logLevel: "silent" }).store, { kind: "memory" });
    assert.deepEqual(resolveConfig({ store: "sqlite:/tmp/x.db", logLevel: "silent" }).store, {
      kind: "sqlite",
      path: "/tmp/x.db",
    });
    assert.deepEqual(resolveConfig({ store: "redis://localhost:6379", logLevel: "silent" }).store, {
      kind: "redis",
      url: "redis://localhost:6379",
    });
  });

  test("names the setting that is wrong", () => {
    const bad = configError(() => resolveConfig({ historyMaxEvents: 0 }));
    assert.equal(bad.code, "CONFIG_INVALID");
    assert.equal(bad.setting, "historyMaxEvents");
    assert.match(bad.message, /historyMaxEvents must be a positive integer \(got 0\)/);
    assert.equal(configError(() => resolveConfig({ store: "mongo://x" })).setting, "store");
    assert.equal(
      configError(() => resolveConfig({ publisherJwtKey: "k", publisherJwtAlg: "none" })).setting,
      "publisherJwtAlg",
    );
    assert.equal(
      configError(() => resolveConfig({ publisherJwtKey: "k", publisherJwtAlg: "RS256" })).setting,
      "publisherJwtKey",
    );
    assert.equal(configError(() => resolveConfig({ corsOrigins: ["example.com"] })).setting, "corsOrigins");
    assert.equal(configError(() => resolveConfig({ logLevel: "loud" })).setting, "logLevel");
    assert.equal(configError(() => resolveConfig({ heartbeatMs: 1.5 })).setting, "heartbeatMs");
    const resource = configError(() => resolveConfig({ resourceIdentifier: "hub.example.com" }));
    assert.equal(resource.setting, "resourceIdentifier");
    assert.match(resource.message, /absolute URL/);
  });
});
