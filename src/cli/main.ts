import { commands } from "./commands/index.js";
import { type CliCommand, UsageError } from "./cli-command.js";
import { SOFTWARE_VERSION } from "./version.js";
import { rootLogger } from "../log/logger.js";
import { ConfigError } from "../config/config-errors.js";

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "pillar — alarm pillar controller",
    "",
    "usage: pillar <command> [options]",
    "",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "pillar <command> --help shows a command's options; pillar --version its version.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(help());
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    console.log(`pillar ${SOFTWARE_VERSION}`);
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    console.error(`pillar: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  let cmd: CliCommand | undefined;
  try {
    cmd = await entry.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(`usage: ${(await cmd.helpFor?.(rest)) ?? cmd.usage}`);
      return 0;
    }
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`pillar ${name}: ${err.message}\nusage: ${cmd?.usage ?? name}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 1;
    }
    console.error(`pillar ${name}: ${(err as Error).message}`);
    return 1;
  }
}

// A user never sees a stack trace: a failure that escapes a command (`run` keeps running after
// main returns) is one line on stderr; its stack goes to the log (JSON, journald), not the terminal.
const escaped = (err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  rootLogger().fatal({ err: e }, "unexpected failure; exiting");
  console.error(`pillar: ${e.message}`);
  process.exit(1);
};
process.on("uncaughtException", escaped);
process.on("unhandledRejection", escaped);
const code = await main(process.argv.slice(2));
// `run` keeps the process alive by itself; the others end here.
if (code !== -1) process.exit(code);
