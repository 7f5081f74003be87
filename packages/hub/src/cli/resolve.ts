/**
 * Precedence of hub settings: flags > environment > config file > `--dev` defaults > defaults. The
 * result keeps, for each setting, where its value came from, so that a `ConfigError` raised later
 * by the hub core (which knows only its own setting names) can be reported with the flag or
 * variable the user actually wrote. Not responsible for reading the sources or starting the hub.
 */
import { describeOrigin, type Entry, type Layer } from "./layers.js";
import { SETTING_NAMES, type SettingName, settingSpec } from "./settings.js";

export type ResolvedSettings = Readonly<Partial<Record<SettingName, Entry>>>;

/** The hub's defaults that the command line itself applies. */
export const DEFAULTS: Layer = {
  port: { value: 3000, origin: { kind: "default" } },
};

/** Merges layers, first wins: pass them as flags, env, file, dev, defaults. */
export function mergeLayers(...layers: readonly Layer[]): ResolvedSettings {
  const merged: Partial<Record<SettingName, Entry>> = {};
  for (const name of SETTING_NAMES) {
    for (const layer of layers) {
      const entry = layer[name];
      if (entry) {
        merged[name] = entry;
        break;
      }
    }
  }
  return merged;
}

export function stringSetting(settings: ResolvedSettings, name: SettingName): string | undefined {
  const value = settings[name]?.value;
  return typeof value === "string" ? value : undefined;
}

export function numberSetting(settings: ResolvedSettings, name: SettingName): number | undefined {
  const value = settings[name]?.value;
  return typeof value === "number" ? value : undefined;
}

export function booleanSetting(settings: ResolvedSettings, name: SettingName): boolean {
  return settings[name]?.value === true;
}

export function listSetting(settings: ResolvedSettings, name: SettingName): readonly string[] | undefined {
  const value = settings[name]?.value;
  return Array.isArray(value) ? value : undefined;
}

/**
 * Names a setting for an error message: where the user set it (`--port`, `MERCURE_JWT_KEY`,
 * `"port" in hub.json`), or, if they did not set it, every way to set it.
 */
export function nameSetting(settings: ResolvedSettings, name: SettingName): string {
  const entry = settings[name];
  if (entry && entry.origin.kind !== "default" && entry.origin.kind !== "dev")
    return describeOrigin(entry.origin);
  const spec = settingSpec(name);
  const flag = spec.flags[0];
  const ways = [flag ? `--${flag}` : undefined, ...spec.env.slice(0, 1)].filter((w) => w !== undefined);
  return ways.join(" or ");
}
