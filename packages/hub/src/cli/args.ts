/**
 * Command-line flag parsing on `node:util` parseArgs: a small wrapper that turns parseArgs' own
 * errors into `CliUsageError`s (exit code 2), and the reader of the hub command's flags into a
 * settings layer. Not responsible for environment variables, config files or precedence.
 */
import { parseArgs } from "node:util";
import { CliUsageError } from "./errors.js";
import { convertText, type Layer } from "./layers.js";
import { flagKinds, SETTINGS } from "./settings.js";

export type OptionSpec = {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
};

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}

/** Parses `argv` strictly: unknown flags, missing values and stray positionals are usage errors. */
export function parseCommandArgs(
  command: string,
  argv: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
  allowPositionals: boolean,
): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals,
      strict: true,
    });
    return { values, positionals };
  } catch (error) {
    // parseArgs explains over several lines (e.g. how to pass a value starting with "-"): keep it all, on one.
    const reason =
      error instanceof Error ? error.message.replace(/\s*\n\s*/g, " ").replace(/\.$/, "") : String(error);
    throw new CliUsageError("BAD_ARGUMENTS", `ssekit ${command}: ${reason}; see ssekit ${command} --help`);
  }
}

/** One string flag's value, or the last one given when it is repeated. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  if (Array.isArray(value)) {
    const last = value[value.length - 1];
    return typeof last === "string" ? last : undefined;
  }
  return typeof value === "string" ? value : undefined;
}

/** Every value of a repeatable string flag. */
export function stringFlags(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return typeof value === "string" ? [value] : [];
}

export function booleanFlag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** The parseArgs options of `ssekit hub`: every setting's flags plus `--config` and `--dev`. */
export function hubOptions(): Record<string, OptionSpec> {
  const options: Record<string, OptionSpec> = {
    config: { type: "string" },
    dev: { type: "boolean" },
  };
  for (const [flag, kind] of flagKinds()) {
    options[flag] = kind === "boolean" ? { type: "boolean" } : { type: "string", multiple: true };
  }
  return options;
}

/** The settings layer given by `ssekit hub` flags. A specific flag wins over a shared one (`--jwt-key`). */
export function flagLayer(args: ParsedArgs): Layer {
  const layer: Layer = {};
  for (const spec of SETTINGS) {
    for (const flag of spec.flags) {
      if (spec.kind === "boolean") {
        if (booleanFlag(args, flag)) layer[spec.name] = { value: true, origin: { kind: "flag", flag } };
      } else {
        const texts = stringFlags(args, flag);
        if (texts.length === 0) continue;
        const value = convertText(spec.kind, texts, `--${flag}`);
        layer[spec.name] = { value, origin: { kind: "flag", flag } };
      }
      if (layer[spec.name]) break;
    }
  }
  return layer;
}
