import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Child } from "../support/child.js";
import { PillarProcess } from "../support/pillar-process.js";
import { stopPid } from "../support/processes.js";
import { testConfigDoc } from "../support/sim-pillar.js";
import { TerminalCli } from "../support/terminal-cli.js";
import { waitFor } from "../support/wait.js";

/**
 * `pillar selftest` never strands a pillar: without a terminal it runs unattended, a client that
 * goes away (killed, its ssh session cut) cancels its run at once, Ctrl-C cancels, and a second
 * client is told since when the pillar is busy and until when at the latest.
 */
describe("pillar selftest against a running pillar", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function runningPillar(): Promise<{ pillar: PillarProcess; configPath: string }> {
    const dir = await mkdtemp(join(tmpdir(), "selftest-cli-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const configPath = await PillarProcess.writeConfig(dir, testConfigDoc({ dataDir: join(dir, "data") }));
    const pillar = new PillarProcess(configPath);
    cleanups.push(() => pillar.kill());
    await pillar.start();
    return { pillar, configPath };
  }

  /** `pillar selftest …` in a pseudo-terminal, as an installer over ssh runs it. */
  function inTerminal(args: string[]): TerminalCli {
    const cli = new TerminalCli(["selftest", ...args]);
    cleanups.push(() => cli.stop());
    return cli;
  }

  const status = async (pillar: PillarProcess) => await pillar.http("GET", "/selftest/status");

  it("without a terminal it runs non-interactive and says so", async () => {
    const { pillar, configPath } = await runningPillar();
    const port = String(pillar.controlPort);
    const cli = Child.cli(["selftest", "--config", configPath, "--control-port", port, "--only", "storage,button"]);
    cleanups.push(() => cli.kill());
    expect(await cli.exited).toBe(0);
    expect(cli.stdout).toContain("no terminal to answer on: running non-interactive");
    expect(cli.stdout).toContain(`a pillar is running on 127.0.0.1:${port}: it runs the self-test`);
    expect(cli.stdout).toMatch(/button: press detected … skip {2}needs an installer/);
    expect(cli.stdout).not.toContain(">>>");
    expect(cli.stdout).toContain("PASSED");
    expect((await pillar.http("GET", "/selftest/last")).interactive).toBe(false);
    expect(await status(pillar)).toEqual({ running: false });
  });

  it("busy says since when, what runs and until when; a killed client frees the pillar at once", async () => {
    const { pillar, configPath } = await runningPillar();
    const port = String(pillar.controlPort);
    const installer = inTerminal(["--config", configPath, "--control-port", port, "--only", "leds,button.press"]);
    await installer.waitFor(/\[y\/n\]/);
    const busy = await status(pillar);
    expect(busy).toMatchObject({ running: true, trigger: "cli", interactive: true, checks: 2 });
    expect(Date.parse(busy.endsBy)).toBeGreaterThan(Date.parse(busy.since));

    const second = Child.cli(["selftest", "--config", configPath, "--control-port", port, "--only", "storage"]);
    cleanups.push(() => second.kill());
    expect(await second.exited).toBe(1);
    const hhmmss = (iso: string) => `${iso.slice(11, 19)} UTC`;
    expect(second.stderr.trim()).toBe(
      `pillar selftest: a self-test is already running since ${hhmmss(busy.since)} ` +
        `(pillar selftest, interactive, 2 checks); it ends by ${hhmmss(busy.endsBy)} at the latest`,
    );

    // the installer's CLI dies (kill -9, a cut ssh session): its connection closes, the run ends
    const pid = await installer.cliPid();
    await stopPid(pid, "SIGKILL");
    // a generous guard, not a measurement: freeing is driven by the connection closing
    await waitFor(async () => !(await status(pillar)).running, "the pillar freed", 15_000);
    expect(pillar.output).toContain("the client went away");
    const last = await pillar.http("GET", "/selftest/last");
    const press = last.checks.find((c: { id: string }) => c.id === "button.press");
    expect(press).toMatchObject({ status: "skip", detail: "the self-test was cancelled" });

    const next = Child.cli(["selftest", "--config", configPath, "--control-port", port, "--only", "storage"]);
    cleanups.push(() => next.kill());
    expect(await next.exited).toBe(0);
  });

  it("Ctrl-C cancels the run on the pillar", async () => {
    const { pillar, configPath } = await runningPillar();
    const port = String(pillar.controlPort);
    const installer = inTerminal(["--config", configPath, "--control-port", port, "--only", "leds,button.press"]);
    await installer.waitFor(/\[y\/n\]/);
    installer.type("\x03");
    expect(await installer.exited).toBe(130);
    expect(installer.output).toContain("cancelling the self-test");
    expect(installer.output).toContain("CANCELLED");
    expect(await status(pillar)).toEqual({ running: false });
    expect(pillar.output).toContain("cancelled by the installer");
  });
});
