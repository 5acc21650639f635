import { Type } from "@sinclair/typebox";
import type { Feature } from "../app/feature.js";
import { CommandFailure, type CommandDef } from "../commands/command-service.js";
import { moduleLogger } from "../log/logger.js";
import { allChecks } from "./all-checks.js";
import { OnlyList, addSelftestRoutes } from "./selftest-routes.js";
import { SelftestBusy, SelftestService } from "./selftest-service.js";
import { Supervision } from "./supervision.js";

/** The `selftest` command: a non-interactive run, answered with the report. */
export function selftestCommand(service: SelftestService): CommandDef {
  const args = {
    only: Type.Optional(OnlyList),
    setReference: Type.Optional(Type.Boolean()),
  };
  const def: CommandDef<typeof args> = {
    name: "selftest",
    description: "run the self-test (non-interactive) and answer with its report; `only`: check ids or components",
    args,
    handle: async (a) => {
      try {
        return await service.run({ trigger: "center", only: a.only, setReference: a.setReference });
      } catch (err) {
        if (err instanceof SelftestBusy) throw new CommandFailure("busy", err.message);
        throw err;
      }
    },
  };
  return def as unknown as CommandDef;
}

/**
 * Self-test and supervision: the checks (src/selftest/checks), `pillar selftest` through the
 * control endpoint, the center's `selftest` command, the `selftest` health section (each
 * component's last result) and the supervision rounds (interval subset, daily audio loop).
 */
export function selftestFeature(o: { configPath?: string } = {}): Feature {
  return {
    name: "selftest",
    attach(core) {
      const checks = allChecks(o);
      const service = new SelftestService(core, () => checks);
      addSelftestRoutes(core.control, service);
      core.commands.register(selftestCommand(service));
      core.health.addSection("selftest", () => service.health());
      const supervision = new Supervision({
        service,
        settings: () => core.config.get().selftest,
        log: moduleLogger("supervision", core.log),
      });
      return [service, supervision];
    },
  };
}
