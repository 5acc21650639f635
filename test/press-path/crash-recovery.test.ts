import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TestCenter } from "../support/center.js";
import { waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { PillarProcess } from "../support/pillar-process.js";
import { testConfigDoc } from "../support/sim-pillar.js";

describe("a pillar killed with SIGKILL while presses are pending", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("delivers them after restart, in seq order, with seq continuing", async () => {
    const broker = await new TestMosquitto().start();
    cleanups.push(() => broker.dispose());
    const dir = await mkdtemp(join(tmpdir(), "pillar-kill-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const configPath = await PillarProcess.writeConfig(
      dir,
      testConfigDoc({ dataDir: join(dir, "data"), broker: { url: broker.url, reconnectMs: 200 } }),
    );
    const center = await new TestCenter(broker.url, "center-crash").start();
    cleanups.push(() => center.stop());

    // one delivered press, so we know where seq stands
    let pillar = await new PillarProcess(configPath).start();
    cleanups.push(() => pillar.kill("SIGKILL"));
    await waitFor(
      async () => (await pillar.http("GET", "/state")).components.uplink === "connected",
      "pillar connected",
    );
    await pillar.click();
    await center.until(() => center.events("button.press").length === 1, "first press");
    const firstSeq = center.events("button.press")[0]!.seq as number;

    await broker.stop();
    await waitFor(
      async () => (await pillar.http("GET", "/state")).components.uplink === "disconnected",
      "pillar sees the broker gone",
    );
    for (let i = 0; i < 5; i++) await pillar.click();
    // the presses are in the fsync'd journal once the outbox counts them
    await waitFor(async () => (await pillar.http("GET", "/state")).outbox.depth >= 5, "5 presses pending");
    await pillar.kill("SIGKILL");

    await broker.start();
    pillar = await new PillarProcess(configPath).start();
    await center.until(() => center.events("button.press").length >= 6, "the 5 pending presses after restart");
    const presses = center.events("button.press").slice(1);
    const seqs = presses.map((p) => p.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs[0]).toBeGreaterThan(firstSeq);
    expect(new Set(presses.map((p) => p.eventId)).size).toBe(5);

    // after the restart the seq keeps increasing
    await pillar.click();
    await center.until(() => center.events("button.press").length >= 7, "a press after restart");
    expect(center.events("button.press").at(-1)!.seq as number).toBeGreaterThan(Math.max(...seqs));
    await waitFor(async () => (await pillar.http("GET", "/state")).outbox.depth === 0, "outbox drained");
  });
});
