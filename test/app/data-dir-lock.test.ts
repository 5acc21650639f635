import { spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LOCK_FILE } from "../../src/app/data-dir-lock.js";
import { decodeJournal } from "../../src/outbox/journal-codec.js";
import { TestCenter } from "../support/center.js";
import { Child, ROOT } from "../support/child.js";
import { freePort } from "../support/free-port.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { PillarProcess } from "../support/pillar-process.js";
import { stopChild } from "../support/processes.js";
import { testConfigDoc } from "../support/sim-pillar.js";
import { waitFor } from "../support/wait.js";

/**
 * The journal once it holds the press's event and the first health report (1 s after start; the
 * next is an hour away), each acknowledged: nothing more is coming. Else undefined.
 */
async function settled(path: string): Promise<Buffer | undefined> {
  const buf = await readFile(path);
  const records = decodeJournal(buf, { topicPrefix: "pillar/v1/test-001/" }).records;
  const acked = new Set(records.flatMap((r) => (r.k === "a" ? [r.seq] : [])));
  const sent = records.flatMap((r) => (r.k === "m" ? [r] : []));
  const has = (end: string) => sent.some((m) => m.topic.endsWith(end));
  return has("/event") && has("/health") && sent.every((m) => acked.has(m.seq)) ? buf : undefined;
}

/** A stack trace line, as Node prints one. */
const STACK = /^\s+at .+\(?.+:\d+:\d+\)?$/m;

describe("one pillar per data folder (the lock)", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "pillar-lock-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  it("a second pillar on the folder is refused at once naming the first; the first's journal is untouched and its presses still arrive", async () => {
    const broker = await new TestMosquitto().start();
    cleanups.push(() => broker.dispose());
    const dir = await tempDir();
    const dataDir = join(dir, "data");
    // no call: the press's event is the only journal record besides its ack
    const doc = testConfigDoc({ dataDir, broker: { url: broker.url }, call: { enabled: false } });
    const configPath = await PillarProcess.writeConfig(dir, doc);
    const center = await new TestCenter(broker.url).start();
    cleanups.push(() => center.stop());
    const first = new PillarProcess(configPath);
    cleanups.push(() => first.kill("SIGKILL"));
    await first.start();
    await waitFor(async () => (await first.http("GET", "/state")).components.uplink === "connected", "connected");
    await first.click();
    await center.until(() => center.events("button.press").length === 1, "the first press");
    const journal = join(dataDir, "outbox.journal");
    const before = await waitFor(() => settled(journal), "the press, the health report and their acks in the journal");

    // a config write of the running pillar, in progress: a refused process must not "repair" it
    const inFlight = join(dir, `.config.json.${first.pid}.1.tmp`);
    await writeFile(inFlight, "{");

    const second = Child.cli(["run", "--config", configPath, "--control-port", "0"]);
    cleanups.push(() => second.kill());
    expect(await second.exited).toBe(1);
    expect(second.output).toContain(`in use by pid ${first.pid}`);
    expect(second.output).toContain("--data-dir");
    expect(second.output).not.toMatch(STACK);
    // it opened nothing: no journal line, no log of a start
    expect(second.stdout).not.toContain("pillar running");
    // a self-test that would open the devices itself (the pillar is asked on another port) too
    const selftest = Child.cli(["selftest", "--config", configPath, "--control-port", String(await freePort())]);
    cleanups.push(() => selftest.kill());
    expect(await selftest.exited).toBe(1);
    expect(selftest.stderr).toContain(`in use by pid ${first.pid} (pillar run`);
    expect(selftest.output).not.toMatch(STACK);
    await access(inFlight); // still there: neither touched the running pillar's config folder
    expect((await readFile(journal)).equals(before)).toBe(true);

    await first.click();
    await center.until(() => center.events("button.press").length === 2, "a press after the refusal");
    expect(center.events("button.press")[1]!.incidentId).toBeDefined();
  });

  it("the lock of a SIGKILLed pillar does not block its restart (the kernel released it)", async () => {
    const dir = await tempDir();
    const dataDir = join(dir, "data");
    const configPath = await PillarProcess.writeConfig(dir, testConfigDoc({ dataDir }));
    let pillar = new PillarProcess(configPath);
    cleanups.push(() => pillar.kill("SIGKILL"));
    await pillar.start();
    const killed = pillar.pid;
    await pillar.kill("SIGKILL");
    // the lock file stays behind, naming the dead pillar: it is not a lock by itself
    expect(JSON.parse(await readFile(join(dataDir, LOCK_FILE), "utf8")).pid).toBe(killed);
    pillar = new PillarProcess(configPath);
    await pillar.start();
    expect(JSON.parse(await readFile(join(dataDir, LOCK_FILE), "utf8")).pid).toBe(pillar.pid);
    expect((await pillar.http("GET", "/state")).pillarId).toBe("test-001");
  });

  it("a control port in use is one line naming the port and the flag that moves it", async () => {
    const dir = await tempDir();
    const configPath = await PillarProcess.writeConfig(dir, testConfigDoc({ dataDir: join(dir, "data") }));
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => taken.close(() => r())));
    const port = (taken.address() as AddressInfo).port;
    const run = Child.cli(["run", "--config", configPath, "--control-port", String(port)]);
    cleanups.push(() => run.kill());
    expect(await run.exited).toBe(1);
    expect(run.stderr.trim()).toBe(
      `pillar run: port ${port} on 127.0.0.1 is in use: --control-port N moves the control endpoint`,
    );
  });

  it("`npm start` twice: the second says the demo already runs and where its page is", async () => {
    const dir = await tempDir();
    const flags = [
      "--data-dir",
      join(dir, "data"),
      "--control-port",
      "0",
      "--embedded-port",
      "0",
      "--console-port",
      "0",
    ];
    const npmStart = () => {
      const proc = spawn("npm", ["start", "--silent", "--", ...flags], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true, // its own group: npm, bash and the pillar are stopped together, by pid
      });
      let out = "";
      proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
      cleanups.push(() => stopChild(proc, { signal: "SIGTERM", group: true }));
      return { proc, exited, output: () => out };
    };
    const demo = npmStart();
    const page = await waitFor(() => /operator console: (\S+)/.exec(demo.output())?.[1], "the demo's page", 60_000);
    const again = npmStart();
    expect(await again.exited).not.toBe(0);
    expect(again.output()).toContain(`the demo already runs (pid `);
    expect(again.output()).toContain(`its operator page is ${page}`);
    expect(again.output()).not.toMatch(STACK);
    expect(demo.proc.exitCode).toBeNull();
    expect((await fetch(page)).status).toBe(200);
  });
});
