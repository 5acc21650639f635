import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./cli-command.js";

/** node:util parseArgs with errors turned into UsageError. */
export function parseCliArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A port number flag, checked. */
export function portArg(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`${flag} must be a port number 0–65535, got "${v}"`);
  return n;
}
