import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Child } from "../support/child.js";
import { freePort } from "../support/free-port.js";
import { PillarProcess } from "../support/pillar-process.js";
import { testConfigDoc } from "../support/sim-pillar.js";

/**
 * `selftest`, `clips` and `sim` find the running pillar: they ask it on the control port where
 * its config and data folder are, and only then fall back to the default config path. A
 * missing config is one line naming the file and the flag.
 */
describe("commands find the running pillar", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "find-pillar-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  async function cli(args: string[], env: Record<string, string>): Promise<Child> {
    const c = Child.cli(args, env);
    cleanups.push(() => c.kill());
    await c.exited;
    return c;
  }

  it("without --config they ask the pillar on the control port for its config and data folder", async () => {
    const dir = await tempDir();
    const dataDir = join(dir, "data");
    const configPath = await PillarProcess.writeConfig(dir, testConfigDoc({ dataDir }));
    const port = String(await freePort());
    const pillar = new PillarProcess(configPath, ["--control-port", port]);
    cleanups.push(() => pillar.kill());
    await pillar.start();
    // the default config path does not exist here: only the pillar can tell
    const env = { PILLAR_CONFIG: join(dir, "absent", "config.json") };

    const where = await pillar.http("GET", "/pillar");
    expect(where).toMatchObject({ pid: pillar.pid, configPath, dataDir, sim: true, controlPort: Number(port) });

    const clips = await cli(["clips", "list", "--control-port", port], env);
    expect(clips.proc.exitCode).toBe(0);
    expect(clips.stdout.trim()).toBe(`no clips in ${join(dataDir, "recordings")}`);

    const selftest = await cli(["selftest", "--control-port", port, "--only", "config,storage"], env);
    expect(selftest.proc.exitCode).toBe(0);
    expect(selftest.stdout).toContain(`a pillar is running on 127.0.0.1:${port}: it runs the self-test`);
    // the config check read the file the pillar runs
    expect((await pillar.http("GET", "/selftest/last")).checks[0]).toMatchObject({
      id: "config.valid",
      status: "pass",
    });

    const sim = await cli(["sim", "state", "--port", port], env);
    expect(sim.proc.exitCode).toBe(0);
    expect(JSON.parse(sim.stdout).pillarId).toBe("test-001");
  });

  it("with no pillar and no config file: one line naming the file and the flag", async () => {
    const dir = await tempDir();
    const absent = join(dir, "absent", "config.json");
    const env = { PILLAR_CONFIG: absent };
    const port = String(await freePort());
    const expected = (cmd: string) =>
      `pillar ${cmd}: no pillar answers on 127.0.0.1:${port} and there is no config file ${absent}: ` +
      "pass --config FILE, or --control-port N of the running pillar";
    const clips = await cli(["clips", "list", "--control-port", port], env);
    expect(clips.proc.exitCode).toBe(1);
    expect(clips.stderr.trim()).toBe(expected("clips"));
    const selftest = await cli(["selftest", "--control-port", port, "--non-interactive"], env);
    expect(selftest.proc.exitCode).toBe(1);
    expect(selftest.stderr.trim()).toBe(expected("selftest"));
    const run = await cli(["run"], env);
    expect(run.proc.exitCode).toBe(1);
    expect(run.stderr.trim()).toBe(`pillar run: no config file ${absent}: pass --config FILE (or --sim for the demo)`);
    const named = await cli(["clips", "list", "--config", join(dir, "nope.json")], env);
    expect(named.stderr.trim()).toBe(
      `pillar clips: no config file ${join(dir, "nope.json")}: pass --config FILE with the pillar's config`,
    );
  });
});
