import type { CliCommand } from "../cli-command.js";
import { command as config } from "./config.js";
import { command as run } from "./run.js";
import { command as sim } from "./sim.js";

/** Every `pillar` subcommand; features add theirs here. */
export const commands: CliCommand[] = [run, config, sim];
