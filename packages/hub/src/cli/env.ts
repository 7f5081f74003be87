/**
 * Reads hub settings from environment variables: the Mercure names (`MERCURE_PUBLISHER_JWT_KEY`,
 * `MERCURE_SUBSCRIBER_JWT_KEY`, their `_ALG`s, `MERCURE_JWT_KEY` as the fallback for both,
 * `MERCURE_CORS_ALLOWED_ORIGINS`, `MERCURE_ANONYMOUS`) and `SSEKIT_*` for settings Mercure has no
 * variable for. An empty variable counts as unset. Not responsible for precedence.
 */
import { convertText, type Layer } from "./layers.js";
import { SETTINGS } from "./settings.js";

export type Environment = Readonly<Record<string, string | undefined>>;

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
