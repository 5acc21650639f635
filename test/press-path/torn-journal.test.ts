import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { encodeRecord } from "../../src/outbox/journal-codec.js";
import { TestCenter } from "../support/center.js";
import { freePort } from "../support/free-port.js";
import { waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { SimPillar } from "../support/sim-pillar.js";

describe("a torn journal tail", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("is skipped at start: the pillar starts, delivers every complete press and reports the damage", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pillar-torn-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const offline = await new SimPillar().start(`mqtt://127.0.0.1:${await freePort()}`, dir);
    for (let i = 0; i < 3; i++) await offline.click();
    await waitFor(() => offline.app.core.outbox.depth === 3, "3 presses journaled");
    await offline.stop();
    // a power cut in the middle of the next record's write
    const next = encodeRecord({
      k: "m",
      seq: 99,
      topic: "pillar/v1/test-001/event",
      cls: "alarm",
      body: '{"type":"button.press"}',
    });
    await appendFile(join(dir, "outbox.journal"), next.subarray(0, next.length - 9));

    const broker = await new TestMosquitto().start();
    cleanups.push(() => broker.dispose());
    const center = await new TestCenter(broker.url).start();
    cleanups.push(() => center.stop());
    const pillar = await new SimPillar().start(broker.url, dir);
    cleanups.push(() => pillar.stop());
    await center.until(
      () => center.events("button.press").length === 3 && center.events("fault").length === 1,
      "3 presses and a fault",
    );
    const fault = center.events("fault")[0]!;
    expect(fault.data).toMatchObject({ component: "outbox", code: "journal.damaged" });
    expect(center.events("button.press").map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(fault.seq as number).toBeGreaterThan(3);
  });
});
