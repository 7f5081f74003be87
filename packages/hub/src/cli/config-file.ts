/**
 * Loads a JSON config file given with `ssekit hub --config FILE` into a settings layer. Keys are
 * the setting names in camelCase (`port`, `store`, `publisherJwtKey`, `corsOrigins`, ...); durations
 * are strings such as "15s" or numbers of milliseconds. Unknown keys and wrongly typed values are
 * usage errors naming the file and the key. Not responsible for precedence.
 */
import { readFileSync } from "node:fs";
import { CliUsageError } from "./errors.js";
import { convertText, type Layer } from "./layers.js";
import { SETTINGS } from "./settings.js";

/** `source` names where the path came from in messages: `--config` or `SSEKIT_CONFIG`. */
export function loadConfigFile(path: string, source = "--config"): Layer {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliUsageError("BAD_CONFIG_FILE", `${source}: cannot read ${path} (${reason})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const yaml = /\.ya?ml$/i.test(path) ? "; YAML is not supported, write the settings as a JSON object" : "";
    throw new CliUsageError("BAD_CONFIG_FILE", `${source}: ${path} is not valid JSON (${reason})${yaml}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CliUsageError("BAD_CONFIG_FILE", `${source}: ${path} must hold a JSON object of settings`);
  }
  const layer: Layer = {};
  for (const [key, raw] of Object.entries(parsed)) {
    const spec = SETTINGS.find((s) => s.name === key);
    const label = `"${key}" in ${path}`;
    if (!spec) {
      const known = SETTINGS.map((s) => s.name).join(", ");
      throw new CliUsageError("BAD_CONFIG_FILE", `${label}: unknown setting; known settings: ${known}`);
    }
    let texts: string[];
    if (spec.kind === "list" && Array.isArray(raw) && raw.every((v) => typeof v === "string")) texts = raw;
    else if (spec.kind === "boolean" && typeof raw === "boolean") texts = [raw ? "true" : "false"];
    else if (spec.kind !== "boolean" && spec.kind !== "string" && typeof raw === "number")
      texts = [String(raw)];
    else if (typeof raw === "string" && spec.kind !== "boolean") texts = [raw];
    else {
      const expected =
        spec.kind === "list"
          ? "a string or an array of strings"
          : spec.kind === "boolean"
            ? "true or false"
            : spec.kind === "string"
              ? "a string"
              : "a number or a string";
      throw new CliUsageError(
        "BAD_CONFIG_FILE",
        `${label}: expected ${expected} (got ${JSON.stringify(raw)})`,
      );
    }
    layer[spec.name] = {
      value: convertText(spec.kind, texts, label),
      origin: { kind: "file", path, key },
    };
  }
  return layer;
}
