/**
 * A layer is the set of hub settings one source gave (flags, environment, config file, `--dev`,
 * defaults), each value remembering where it came from so that an error can name the exact flag,
 * variable or file key the user wrote. Also converts text to a value of a setting's kind. Not
 * responsible for reading any source or for precedence.
 */
import type { SettingKind, SettingName } from "./settings.js";
import { parseBoolean, parseDuration, parseInteger, parseList } from "./values.js";

export type SettingValue = string | number | boolean | readonly string[];

export type Origin =
  | { readonly kind: "flag"; readonly flag: string }
  | { readonly kind: "env"; readonly variable: string }
  | { readonly kind: "file"; readonly path: string; readonly key: string }
  | { readonly kind: "dev" }
  | { readonly kind: "default" };

export interface Entry {
  readonly value: SettingValue;
  readonly origin: Origin;
}

export type Layer = Partial<Record<SettingName, Entry>>;

/** How an error message names where a value came from: `--port`, `MERCURE_JWT_KEY`, `"port" in hub.json`. */
export function describeOrigin(origin: Origin): string {
  switch (origin.kind) {
    case "flag":
      return `--${origin.flag}`;
    case "env":
      return origin.variable;
    case "file":
      return `"${origin.key}" in ${origin.path}`;
    case "dev":
      return "--dev";
    case "default":
      return "the default";
  }
}

/** Converts the text (or texts, for a repeated flag) of a setting of `kind`. */
export function convertText(kind: SettingKind, texts: readonly string[], label: string): SettingValue {
  const last = texts[texts.length - 1] ?? "";
  switch (kind) {
    case "string":
      return last;
    case "integer":
      return parseInteger(last, label);
    case "port":
      return parseInteger(last, label, 0, 65535);
    case "duration":
      return parseDuration(last, label);
    case "boolean":
      return parseBoolean(last, label);
    case "list":
      return parseList(texts);
  }
}
