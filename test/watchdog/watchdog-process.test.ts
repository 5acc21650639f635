import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { PillarProcess } from "../support/pillar-process.js";
import { testConfigDoc } from "../support/sim-pillar.js";
import { NotifyReceiver } from "./notify-receiver.js";

/**
 * `pillar run` as systemd runs it (NOTIFY_SOCKET, WATCHDOG_USEC), with a stand-in notify socket:
 * READY=1, then WATCHDOG=1 while healthy; a stalled event loop (the sim debug hook) and a dead
 * button line stop the feed.
 */
describe("the systemd watchdog, as the service runs it", () => {
  let mosq: TestMosquitto;
  let receiver: NotifyReceiver;
  let pillar: PillarProcess;
  let dir = "";
  const health = async () => (await pillar.http("GET", "/health")).watchdog as Record<string, any>;

  beforeAll(async () => {
    mosq = await new TestMosquitto().start();
    receiver = await new NotifyReceiver().start();
    dir = await mkdtemp(join(tmpdir(), "watchdog-"));
    const doc = testConfigDoc({
      pillar: { id: "wd-001" },
      dataDir: join(dir, "data"),
      call: { enabled: false },
      watchdog: { maxLoopLagMs: 300, inputGraceS: 1 },
    });
    doc.broker = { ...doc.broker, url: mosq.url };
    pillar = new PillarProcess(await PillarProcess.writeConfig(dir, doc), [], undefined, [], {
      NOTIFY_SOCKET: receiver.path,
      WATCHDOG_USEC: "400000", // feed every 200 ms
    });
    await pillar.start();
  });
  afterAll(async () => {
    await pillar?.kill("SIGTERM");
    await receiver?.stop();
    await mosq?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("says READY=1 once running, then feeds WATCHDOG=1", async () => {
    await waitFor(() => receiver.count("READY=1") >= 1 && receiver.count("WATCHDOG=1") >= 3, "READY and feeds");
    expect(receiver.messages[0]).toBe("READY=1");
    expect(await health()).toMatchObject({ systemd: true, intervalMs: 200, withholding: null });
  });

  it("a stalled event loop withholds the feed", async () => {
    const before = await health();
    const res = await pillar.http("POST", "/sim/debug/stall?ms=1500");
    expect(res.stalledMs).toBe(1500);
    // nothing could be fed while the loop was blocked; the tick that came late withheld its feed
    const after = await waitFor(async () => {
      const h = await health();
      return h.withheld > before.withheld ? h : undefined;
    }, "a withheld feed");
    expect(after.longestStallMs).toBeGreaterThanOrEqual(1000);
    // and once the loop turns again, it feeds again
    await waitFor(async () => (await health()).withholding === null, "feeding again");
  });

  it("a dead button line stops the feed after the grace time; restored, it feeds again", async () => {
    await pillar.http("POST", "/sim/button/fail");
    const stopped = await waitFor(async () => {
      const h = await health();
      return typeof h.withholding === "string" && h.withholding.startsWith("button/line.failed") ? h : undefined;
    }, "feed withheld for the button");
    const fed = receiver.count("WATCHDOG=1");
    // three more withheld ticks: no datagram was sent for any of them
    await waitFor(async () => (await health()).withheld >= stopped.withheld + 3, "three withheld ticks");
    expect(receiver.count("WATCHDOG=1")).toBe(fed);
    await pillar.http("POST", "/sim/button/restore");
    await waitFor(() => receiver.count("WATCHDOG=1") > fed, "fed again after the line came back");
  });

  it("says STOPPING=1 on a clean shutdown", async () => {
    await pillar.kill("SIGTERM");
    await waitFor(() => receiver.count("STOPPING=1") === 1, "STOPPING=1");
    expect(receiver.messages.at(-1)).toBe("STOPPING=1");
  });
});
