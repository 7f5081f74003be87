/**
 * `ssekit hub`: resolves the settings (flags > environment > config file > `--dev` > defaults),
 * starts the hub core, prints `ssekit hub listening on URL` as soon as it accepts connections, and
 * shuts it down gracefully on SIGTERM or SIGINT (a second signal exits at once). Not responsible
 * for serving requests: that is the hub core (createHub).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { loadHubCore } from "../core.js";
import { devBanner } from "../dev.js";
import { unknownVariables } from "../env.js";
import { CliRuntimeError, CliUsageError } from "../errors.js";
import { nameCoreSetting, toHubConfigInput } from "../hub-config.js";
import type { CommandIo } from "../io.js";
import { planHub } from "../plan.js";
import { nameSetting, numberSetting, type ResolvedSettings, stringSetting } from "../resolve.js";
import { SETTINGS } from "../settings.js";
import { startTicker } from "../ticker.js";
import { isWorker, reportListening, runPrimary, shutdownRequested, WORKER_ENV } from "../workers.js";

/** With --workers, only the first worker runs the demo ticker; a single process runs it itself. */
function runsTicker(): boolean {
  const worker = process.env[WORKER_ENV];
  return !isWorker() || worker === undefined || worker === "1";
}

/** Most workers one hub starts: more than a machine's cores only adds contention. */
const MAX_WORKERS = 256;

function helpText(): string {
  const rows = SETTINGS.filter((s) => s.help !== "").map((s) => {
    const flag = s.flags[0] ?? "";
    const left = `  --${flag}${s.placeholder ? ` ${s.placeholder}` : ""}`;
    const env = s.env.length > 0 ? `  [${s.env.join(", ")}]` : "";
    return `${left.padEnd(34)}${s.help}${env}`;
  });
  return `Usage: ssekit hub [options]

Starts a Mercure-protocol hub: publish with POST /.well-known/mercure, subscribe with
GET /.well-known/mercure?topic=... . Settings come from flags, then environment variables
(in brackets), then the --config file, then defaults.

Options:
${rows.join("\n")}
  --jwt-key KEY                   sets both JWT keys  [MERCURE_JWT_KEY]
  --jwt-alg ALG                   sets both JWT algorithms
  --config FILE                   JSON file of settings, keys in camelCase: {"port": 3000, "store": "memory"}
  --dev                           development: anonymous subscribers, SQLite at ./data/ssekit-hub.db,
                                  a generated key printed with ready-to-use JWTs and curl commands
  -h, --help                      show this help
`;
}

function prepareStore(settings: ResolvedSettings): void {
  const store = stringSetting(settings, "store");
  if (store?.startsWith("sqlite:")) {
    const path = store.slice("sqlite:".length);
    if (path === "" || path === ":memory:") return;
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      // mkdir reports a file standing where a directory should be as EEXIST; say it plainly.
      const exists = (error as { code?: unknown }).code === "EEXIST";
      const reason = exists
        ? "a file that is not a directory is in the way"
        : error instanceof Error
          ? error.message
          : String(error);
      throw new CliUsageError(
        "BAD_CONFIG",
        `${nameSetting(settings, "store")}: cannot create the directory of ${path} (${reason})`,
      );
    }
  }
}

/** Resolves on the first SIGTERM or SIGINT; a second one exits the process at once. */
function waitForStopSignal(io: CommandIo): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (received: NodeJS.Signals) => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      // A second signal while closing means "now": exit without waiting for the store or clients.
      const now = (again: NodeJS.Signals) => {
        io.stderr.write(`ssekit hub: ${again} again, exiting now\n`);
        process.exit(1);
      };
      process.once("SIGTERM", now);
      process.once("SIGINT", now);
      resolve(received);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}

function warnWithoutKey(settings: ResolvedSettings, io: CommandIo): void {
  if (settings.publisherJwtKey === undefined && settings.jwksUrl === undefined) {
    io.stderr.write(
      "ssekit hub: no publisher key, so every publish is refused; set --jwt-key or MERCURE_PUBLISHER_JWT_KEY, or run with --dev\n",
    );
  }
}

export async function hubCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const plan = planHub(argv, io.env);
  if (plan === "help") {
    io.stdout.write(helpText());
    return 0;
  }
  const { settings } = plan;
  for (const variable of unknownVariables(io.env)) {
    io.stderr.write(
      `ssekit hub: ignoring ${variable}, which is not a setting of this hub (see ssekit hub --help)\n`,
    );
  }
  const input = toHubConfigInput(settings, plan.dev);
  const core = await loadHubCore();
  /** A core ConfigError names the flag or variable; anything else is a failure to start, without a stack. */
  const startError = (error: unknown): Error => {
    const setting = core.configErrorSetting(error);
    if (setting !== undefined && error instanceof Error)
      return new CliUsageError("BAD_CONFIG", `${nameCoreSetting(settings, setting)}: ${error.message}`);
    const reason = error instanceof Error ? error.message : String(error);
    return new CliRuntimeError("START_FAILED", `ssekit hub: cannot start (${reason})`);
  };
  let config: ReturnType<typeof core.resolveConfig>;
  try {
    config = core.resolveConfig(input);
  } catch (error) {
    throw startError(error);
  }
  prepareStore(settings);

  const workers = numberSetting(settings, "workers") ?? 1;
  if (workers < 1 || workers > MAX_WORKERS)
    throw new CliUsageError(
      "BAD_VALUE",
      `${nameSetting(settings, "workers")}: must be between 1 and ${MAX_WORKERS} (got ${workers})`,
    );
  if (workers > 1 && !isWorker()) {
    if (config.store.kind !== "redis" && config.transport === undefined) {
      const store = config.store.kind === "sqlite" ? `sqlite:${config.store.path}` : config.store.kind;
      throw new CliUsageError(
        "BAD_CONFIG",
        `${nameSetting(settings, "workers")}: ${workers} workers need a shared transport to act as one hub, and the store ${store} belongs to one process; set ${nameSetting(settings, "store")} to redis://HOST:PORT, or run one worker`,
      );
    }
    // Every worker must verify the same tokens: a key generated by --dev is handed to them all.
    const env: Record<string, string> =
      plan.devKey === undefined
        ? {}
        : { MERCURE_PUBLISHER_JWT_KEY: plan.devKey.key, MERCURE_SUBSCRIBER_JWT_KEY: plan.devKey.key };
    return runPrimary(
      {
        count: workers,
        env,
        onListening: async (url) => {
          io.stdout.write(`ssekit hub listening on ${url}\n`);
          io.stdout.write(`ssekit hub: ${workers} workers share this port, on ${config.store.kind}\n`);
          warnWithoutKey(settings, io);
          if (plan.dev) io.stdout.write(await devBanner(url, settings, plan.devKey));
        },
      },
      io,
    );
  }

  let hub: ReturnType<typeof core.createHub>;
  try {
    hub = core.createHub(config);
  } catch (error) {
    throw startError(error);
  }
  // Listen for signals before announcing the URL: whoever reads that line may signal at once. A
  // worker also stops when its primary asks, even while it is still starting.
  const stopSignal = waitForStopSignal(io);
  const primaryStop = isWorker() ? shutdownRequested() : new Promise<never>(() => {});
  let address: { url: string };
  try {
    address = await hub.listen(numberSetting(settings, "port"), stringSetting(settings, "host"));
  } catch (error) {
    await hub.close({ retryMs: 0 }).catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    // Usually a port in use or a host that is not this machine's: name the settings to change.
    throw new CliRuntimeError(
      "START_FAILED",
      `ssekit hub: cannot listen (${reason}); check ${nameSetting(settings, "port")} and ${nameSetting(settings, "host")}`,
    );
  }
  if (isWorker()) {
    // The primary prints the URL and the banner once, for every worker.
    reportListening(address.url);
  } else {
    io.stdout.write(`ssekit hub listening on ${address.url}\n`);
    warnWithoutKey(settings, io);
    if (plan.dev) io.stdout.write(await devBanner(address.url, settings, plan.devKey));
  }
  // The live chart demo's prices: a development aid of the CLI, one per hub (not per worker).
  const ticker =
    plan.dev && config.ui && runsTicker()
      ? startTicker({
          publish: ({ topic, data }) => hub.publish({ topics: [topic], data }),
          onError: (error) =>
            io.stderr.write(`ssekit hub: the demo ticker could not publish (${String(error)})\n`),
        })
      : undefined;

  const signal = await Promise.race([stopSignal, primaryStop]);
  ticker?.stop();
  if (!isWorker()) io.stderr.write(`ssekit hub: ${signal}, closing (a second signal exits at once)\n`);
  await hub.close();
  if (!isWorker()) io.stderr.write("ssekit hub: closed\n");
  return 0;
}
