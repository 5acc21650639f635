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
    throw new UsageError(parseArgsProblem(err as NodeJS.ErrnoException));
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

/** node:util's parse error, said once: an unknown flag is named, without its advice on positionals. */
export function parseArgsProblem(err: NodeJS.ErrnoException): string {
  const flag = /'(-[^']*)'/.exec(err.message)?.[1];
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) return `unknown flag ${flag}`;
  return err.message;
}

/** A listen that failed on a taken port, said as one line with the flag that moves it; else `err`. */
export function portTaken(err: unknown, flag: string, what: string): Error {
  const e = err as NodeJS.ErrnoException & { port?: number };
  return e?.code === "EADDRINUSE"
    ? new Error(`port ${e.port} on 127.0.0.1 is in use: ${flag} N moves ${what}`)
    : (err as Error);
}
