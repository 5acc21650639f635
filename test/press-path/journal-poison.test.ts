import { appendFile, mkdtemp, readFile, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { encodeRecord, type JournalRecord } from "../../src/outbox/journal-codec.js";
import { TestCenter } from "../support/center.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { SimPillar } from "../support/sim-pillar.js";

const TOPIC = "pillar/v1/test-001/event";
const BODY = '{"type":"button.press","seq":4}';

/**
 * A pillar presses three times through a real Mosquitto; the disk is then taken as it was at
 * that moment (a power cut), `damage` is done to the data folder, and the pillar starts again.
 * It must start, and a new press must carry an integer seq above every seq the center has seen.
 */
describe("a damaged or poisoned journal", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function scenario(damage: (journal: string) => Promise<void>) {
    const dir = await mkdtemp(join(tmpdir(), "pillar-poison-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const broker = await new TestMosquitto().start();
    cleanups.push(() => broker.dispose());
    const center = await new TestCenter(broker.url).start();
    cleanups.push(() => center.stop());
    const journal = join(dir, "outbox.journal");
    const seqFile = join(dir, "outbox.seq");

    const first = await new SimPillar().start(broker.url, dir);
    for (let i = 0; i < 3; i++) await first.click();
    await center.until(() => center.events("button.press").length === 3, "3 presses delivered", 60_000);
    await center.until(() => first.app.core.outbox.depth === 0, "every event acknowledged", 60_000);
    // the disk as a power cut would leave it now (journal and high-water mark are fsync'd)
    const atCut = { journal: await readFile(journal), seq: await readFile(seqFile) };
    await first.stop();
    await writeFile(journal, atCut.journal);
    await writeFile(seqFile, atCut.seq);
    const sentBefore = center.received.map((r) => r.payload.seq).filter((s): s is number => typeof s === "number");
    await damage(journal);

    const second = await new SimPillar().start(broker.url, dir);
    cleanups.push(() => second.stop());
    await second.click();
    await center.until(() => center.events("button.press").length === 4, "a new press after the damage", 60_000);
    const press = center.events("button.press")[3]!;
    expect(Number.isInteger(press.seq)).toBe(true);
    expect(press.seq as number).toBeGreaterThan(Math.max(...sentBefore));
    // seq strictly increasing over everything the center received, and never null
    const all = center.received.map((r) => r.payload.seq).filter((s) => s !== undefined);
    expect(all.every((s) => typeof s === "number")).toBe(true);
    expect(new Set(all).size).toBe(all.length);
    return { center, second };
  }

  async function expectDamageReported(center: TestCenter, lost: RegExp) {
    await center.until(
      () => center.events("fault.cleared").some((e) => (e.data as { code?: string }).code === "journal.damaged"),
      "journal.damaged raised and cleared",
    );
    const fault = center.events("fault").find((e) => (e.data as { code?: string }).code === "journal.damaged");
    expect(fault?.data).toMatchObject({ component: "outbox", code: "journal.damaged" });
    const cleared = center
      .events("fault.cleared")
      .find((e) => (e.data as { code?: string }).code === "journal.damaged");
    expect((cleared!.data as { message: string }).message).toMatch(lost);
  }

  const poison = (rec: Record<string, unknown>) => (journal: string) =>
    appendFile(journal, encodeRecord(rec as unknown as JournalRecord));

  it("a record with a valid CRC but no body: starts, reports it, seq continues above", async () => {
    const { center, second } = await scenario(poison({ k: "m", seq: 4, topic: TOPIC, cls: "alarm" }));
    await expectDamageReported(center, /1 invalid record\(s\) skipped \(seq 4\)/);
    expect(second.app.core.faults.has("outbox")).toBe(false);
  });

  it("a record with topic pillar/#: never replayed, so the connection holds and new alarms leave", async () => {
    const { center } = await scenario(poison({ k: "m", seq: 4, topic: "pillar/#", cls: "alarm", body: BODY }));
    await expectDamageReported(center, /invalid record/);
    expect(center.received.some((r) => r.topic.includes("#"))).toBe(false);
  });

  it('a record with seq "x": skipped, later events still carry integer seqs', async () => {
    const { center } = await scenario(poison({ k: "m", seq: "x", topic: TOPIC, cls: "alarm", body: BODY }));
    await expectDamageReported(center, /1 invalid record/);
  });

  it("a torn tail: new events continue above everything sent", async () => {
    const { center } = await scenario(async (journal) => {
      const size = (await readFile(journal)).length;
      await truncate(journal, Math.floor(size / 2));
    });
    await expectDamageReported(center, /damaged bytes/);
  });

  it("an emptied journal: new events continue above everything sent", async () => {
    await scenario((journal) => truncate(journal, 0));
  });

  it("a deleted journal: new events continue above everything sent", async () => {
    await scenario((journal) => unlink(journal));
  });
});
