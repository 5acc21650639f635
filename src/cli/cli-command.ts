/** One `pillar` subcommand. `run` returns the process exit code. */
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  /** The help of a subcommand (`pillar fleet simulate --help`), when it has its own. */
  helpFor?(argv: string[]): Promise<string | undefined>;
  run(argv: string[]): Promise<number>;
}

/** Error for bad command-line use: printed with the usage, exit code 2. */
export class UsageError extends Error {}
