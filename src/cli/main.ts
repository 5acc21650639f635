import { commands } from "./commands/index.js";
import { UsageError } from "./cli-command.js";
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
    "pillar <command> --help shows a command's options.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(help());
    return name ? 0 : 2;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    console.error(`pillar: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const cmd = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(`usage: ${(await cmd.helpFor?.(rest)) ?? cmd.usage}`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`pillar ${name}: ${err.message}\nusage: ${cmd.usage}`);
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

const code = await main(process.argv.slice(2));
// `run` keeps the process alive by itself; the others end here.
if (code !== -1) process.exit(code);
