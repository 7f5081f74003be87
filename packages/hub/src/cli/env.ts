/**
 * Reads hub settings from environment variables: the Mercure names (`MERCURE_PUBLISHER_JWT_KEY`,
 * `MERCURE_SUBSCRIBER_JWT_KEY`, their `_ALG`s, `MERCURE_JWT_KEY` as the fallback for both,
 * `MERCURE_CORS_ALLOWED_ORIGINS`, `MERCURE_ANONYMOUS`) and `SSEKIT_*` for settings Mercure has no
 * variable for. An empty variable counts as unset. Not responsible for precedence.
 */
import { convertText, type Layer } from "./layers.js";
import { SETTINGS } from "./settings.js";

export type Environment = Readonly<Record<string, string | undefined>>;

/** Variables the `ssekit` commands read besides the settings table: the config file, pub/sub's hub, debugging, the worker number --workers gives each worker. */
const OTHER_VARIABLES = ["SSEKIT_CONFIG", "SSEKIT_HUB_URL", "SSEKIT_DEBUG", "SSEKIT_HUB_WORKER"];

/**
 * The `MERCURE_*` and `SSEKIT_*` variables that are set but that no command reads: a typo, or a
 * setting of another Mercure hub (such as `MERCURE_EXTRA_DIRECTIVES`) that this one would
 * silently ignore. Not an error (the environment may be shared), so `ssekit hub` warns.
 */
export function unknownVariables(env: Environment): string[] {
  const known = new Set([...SETTINGS.flatMap((spec) => spec.env), ...OTHER_VARIABLES]);
  return Object.keys(env)
    .filter((name) => /^(MERCURE|SSEKIT)_/.test(name) && !known.has(name) && (env[name] ?? "") !== "")
    .sort();
}

export function envLayer(env: Environment): Layer {
  const layer: Layer = {};
  for (const spec of SETTINGS) {
    for (const variable of spec.env) {
      const text = env[variable];
      if (text === undefined || text === "") continue;
      layer[spec.name] = {
        value: convertText(spec.kind, [text], variable),
        origin: { kind: "env", variable },
      };
      break;
    }
  }
  return layer;
}
