import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBus } from "../../src/bus/events.js";
import { Journal } from "../../src/outbox/journal.js";
import { decodeJournal, encodeRecord } from "../../src/outbox/journal-codec.js";
import { Outbox } from "../../src/outbox/outbox.js";

const log = pino({ level: "silent" });
const P = "pillar/v1/t/";

describe("outbox journal", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "journal-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const open = async (compactBytes = 1 << 20) => {
    const j = new Journal({ dir, compactBytes, topicPrefix: P, log });
    const r = await j.open();
    return { j, ...r };
  };
  const msg = (seq: number, cls: "alarm" | "telemetry" = "alarm", body = `{"n":${seq}}`) => ({
    k: "m" as const,
    seq,
    topic: `${P}event`,
    cls,
    body,
  });

  it("keeps unacknowledged messages across a reopen, drops acknowledged ones", async () => {
    const { j } = await open();
    for (let i = 0; i < 5; i++) await j.appendMessage(msg(j.takeSeq()));
    await j.appendRemoval("a", 2);
    await j.appendRemoval("a", 4);
    await j.close();
    const again = await open();
    expect(again.pending.map((m) => m.seq)).toEqual([1, 3, 5]);
    expect(again.j.takeSeq()).toBe(6);
    expect(again.damagedBytes).toBe(0);
    await again.j.close();
  });

  it("survives a torn last record (power cut mid-write): skips it, rewrites the file, never throws", async () => {
    const { j } = await open();
    for (let i = 0; i < 3; i++) await j.appendMessage(msg(j.takeSeq()));
    await j.close();
    const torn = encodeRecord(msg(4)).subarray(0, 13);
    await appendFile(j.path, torn);
    const again = await open();
    expect(again.pending.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(again.damagedBytes).toBe(13);
    // the file is clean again: a second open finds no damage
    await again.j.appendMessage(msg(again.j.takeSeq()));
    await again.j.close();
    const third = await open();
    expect(third.damagedBytes).toBe(0);
    expect(third.pending.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    await third.j.close();
  });

  it("recovers the records after a damaged region in the middle", async () => {
    const good = [encodeRecord(msg(1)), encodeRecord(msg(2)), encodeRecord(msg(3))];
    const damaged = Buffer.from(good[1]!);
    damaged[15] = damaged[15]! ^ 0xff; // flip a payload byte: CRC mismatch
    const r = decodeJournal(Buffer.concat([good[0]!, damaged, good[2]!, Buffer.from([0xa1, 0x7e, 9])]), {
      topicPrefix: P,
    });
    expect(r.records.map((x) => (x as { seq: number }).seq)).toEqual([1, 3]);
    expect(r.damagedRegions).toBe(2);
  });

  it("keeps seq strictly increasing across compaction and restart", async () => {
    const { j } = await open(4096);
    for (let i = 0; i < 200; i++) {
      const seq = j.takeSeq();
      await j.appendMessage(msg(seq, "alarm", JSON.stringify({ pad: "x".repeat(100), seq })));
      await j.appendRemoval("a", seq);
    }
    await j.appendMessage(msg(j.takeSeq()));
    await j.close();
    expect((await stat(j.path)).size).toBeLessThan(8192); // compacted
    const again = await open(4096);
    expect(again.pending.map((m) => m.seq)).toEqual([201]);
    expect(again.j.takeSeq()).toBe(202);
    await again.j.close();
  });

  it("drops the oldest telemetry first when near the bound, never alarms, and raises outbox.full", async () => {
    const bus = createBus();
    const faults: string[] = [];
    bus.on("fault.raised", (f) => faults.push(f.code));
    const journal = new Journal({ dir, compactBytes: 1 << 20, topicPrefix: P, log });
    const outbox = new Outbox({
      journal,
      publisher: { isConnected: () => false, publish: () => Promise.reject(new Error("down")) },
      bus,
      log,
      maxBytes: 10_000,
    });
    await outbox.start();
    const pad = "y".repeat(900);
    for (let i = 0; i < 5; i++) outbox.submit(`${P}health`, "telemetry", (seq) => ({ seq, pad }));
    for (let i = 0; i < 6; i++) outbox.submit(`${P}event`, "alarm", (seq) => ({ seq, pad }));
    // 11 × ~920 bytes > 8,000 (80%): the oldest telemetry went, every alarm stayed
    expect(outbox.pendingBytes).toBeLessThanOrEqual(8000);
    expect(faults).not.toContain("outbox.full");
    for (let i = 0; i < 6; i++) outbox.submit(`${P}event`, "alarm", (seq) => ({ seq, pad }));
    expect(faults).toContain("outbox.full");
    await outbox.stop();
    const again = await open();
    const pending = again.pending;
    expect(pending.filter((m) => m.cls === "alarm")).toHaveLength(12);
    expect(pending.filter((m) => m.cls === "telemetry")).toHaveLength(0);
    await again.j.close();
    // reading the journal changed nothing on disk: a third open finds the same alarms, same seqs
    const third = await open();
    expect(third.pending.map((m) => m.seq)).toEqual(pending.map((m) => m.seq));
    await third.j.close();
  });

  it("reports a journal it cannot write as a fault and keeps the message for sending", async () => {
    const bus = createBus();
    const faults: string[] = [];
    bus.on("fault.raised", (f) => faults.push(f.code));
    await writeFile(join(dir, "outbox.journal"), "");
    const journal = new Journal({ dir, compactBytes: 1 << 20, topicPrefix: P, log });
    const outbox = new Outbox({
      journal,
      publisher: { isConnected: () => false, publish: () => Promise.reject(new Error("down")) },
      bus,
      log,
      maxBytes: 1 << 20,
    });
    await outbox.start();
    await journal.close(); // the file handle is gone: writes fail
    const { durable } = outbox.submit(`${P}event`, "alarm", (seq) => ({ seq }));
    expect(await durable).toBe(false);
    expect(faults).toContain("journal.write");
    expect(outbox.depth).toBe(1);
  });

  it("skips checksummed records whose content is invalid, whole, and never trusts their seq", async () => {
    const bad = [
      { k: "m", seq: 2, topic: `${P}event`, cls: "alarm" },
      { k: "m", seq: 3, topic: "pillar/#", cls: "alarm", body: "{}" },
      { k: "m", seq: "x", topic: `${P}event`, cls: "alarm", body: "{}" },
      { k: "m", seq: 1e16, topic: `${P}event`, cls: "alarm", body: "{}" },
      { k: "h", nextSeq: "x" },
      { k: "a", seq: -1 },
      { k: "z" },
      [1, 2],
    ].map((r) => encodeRecord(r as never));
    const r = decodeJournal(Buffer.concat([encodeRecord(msg(1)), ...bad, encodeRecord(msg(4))]), { topicPrefix: P });
    expect(r.records.map((x) => (x as { seq: number }).seq)).toEqual([1, 4]);
    expect(r.invalidRecords).toBe(bad.length);
    expect(r.lostSeqs).toEqual([2, 3]);
    expect(r.damagedBytes).toBe(0);
  });

  it("never hands out a seq again after the journal is truncated: the high-water mark reserves ahead", async () => {
    const j = new Journal({ dir, compactBytes: 1 << 20, topicPrefix: P, seqBlock: 4, log });
    await j.open();
    const taken: number[] = [];
    for (let i = 0; i < 10; i++) {
      const seq = j.takeSeq();
      taken.push(seq);
      await j.appendMessage(msg(seq));
    }
    // a power cut: no clean close; the journal is then emptied
    const hwm = JSON.parse(await readFile(join(dir, "outbox.seq"), "utf8")) as { reservedBelow: number };
    expect(hwm.reservedBelow).toBeGreaterThan(10);
    await writeFile(j.path, "");
    const again = new Journal({ dir, compactBytes: 1 << 20, topicPrefix: P, seqBlock: 4, log });
    await again.open();
    expect(again.takeSeq()).toBeGreaterThan(Math.max(...taken));
    await again.close();
    await j.close();
  });
});
