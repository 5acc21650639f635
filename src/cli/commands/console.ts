import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import type { CliCommand } from "../cli-command.js";
import { PROJECT_ROOT } from "../version.js";

/** The center's program (center/main.ts), run through tsx: the pillar's code never imports it. */
export const CENTER_MAIN = join(PROJECT_ROOT, "center/main.ts");

/** `node --import tsx center/main.ts …`: the console as its own process. */
export function spawnCenter(args: string[], stdio: "inherit" | "pipe") {
  return spawn(process.execPath, ["--import", "tsx", CENTER_MAIN, ...args], {
    cwd: PROJECT_ROOT,
    stdio: stdio === "inherit" ? "inherit" : ["pipe", "inherit", "pipe"],
    env: process.env,
  });
}

/** `pillar console`: starts the center's console program (center/) and waits for it. */
export const command: CliCommand = {
  name: "console",
  summary: "serve the operator page (alarms with live video, two-way audio, acknowledge)",
  usage: "pillar console [options] | pillar console users add|passwd|remove|list …",
  /** The center's program has the options: its own --help (and `users --help`) is this one's. */
  async helpFor(argv) {
    const args = argv[0] === "users" ? ["users", "--help"] : ["--help"];
    const r = spawnSync(process.execPath, ["--import", "tsx", CENTER_MAIN, ...args], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
    });
    return r.status === 0 ? r.stdout.replace(/^usage:\s*/, "").trimEnd() : undefined;
  },
  async run(argv) {
    const child = spawnCenter(argv, "inherit");
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on("SIGTERM", () => forward("SIGTERM"));
    process.on("SIGINT", () => forward("SIGINT"));
    return await new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
  },
};
