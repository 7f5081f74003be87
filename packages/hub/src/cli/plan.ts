/**
 * What `ssekit hub` decides before starting anything: parses its flags, reads the environment and
 * the config file, applies `--dev` defaults and merges them by precedence (flags > environment >
 * config file > --dev > defaults). Pure apart from reading the config file and the --dev key
 * file (`keyFrom`), so tests call it in-process. Not responsible for starting the hub (commands/hub.ts).
 */
import { flagLayer, hubOptions, parseCommandArgs, stringFlag } from "./args.js";
import { loadConfigFile } from "./config-file.js";
import { type DevKey, devDefaults, loadDevKey } from "./dev.js";
import { type Environment, envLayer } from "./env.js";
import type { Layer } from "./layers.js";
import { DEFAULTS, mergeLayers, type ResolvedSettings } from "./resolve.js";

export interface HubPlan {
  readonly settings: ResolvedSettings;
  readonly dev: boolean;
  /** The development key kept in the data folder (`--dev` without a configured key). */
  readonly devKey?: DevKey;
}

/** Everything `ssekit hub` decides before starting, from its arguments and environment. */
export function planHub(
  argv: readonly string[],
  env: Environment,
  keyFrom: (file: string) => DevKey = loadDevKey,
): HubPlan | "help" {
  const args = parseCommandArgs("hub", argv, hubOptions(), false);
  if (args.values.help === true) return "help";
  const flags = flagLayer(args);
  const fromEnv = envLayer(env);
  const configFlag = stringFlag(args, "config");
  const configPath = configFlag ?? (env.SSEKIT_CONFIG || undefined);
  const fromFile: Layer =
    configPath === undefined
      ? {}
      : loadConfigFile(configPath, configFlag === undefined ? "SSEKIT_CONFIG" : "--config");
  const dev = args.values.dev === true;
  if (!dev) return { settings: mergeLayers(flags, fromEnv, fromFile, DEFAULTS), dev };
  const defaults = devDefaults(mergeLayers(flags, fromEnv, fromFile), keyFrom);
  return {
    settings: mergeLayers(flags, fromEnv, fromFile, defaults.layer, DEFAULTS),
    dev,
    ...(defaults.devKey ? { devKey: defaults.devKey } : {}),
  };
}
