import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createBus } from "../../src/bus/events.js";
import { ClipStore } from "../../src/recording/clip-store.js";
import type { RecordSettings } from "../../src/recording/recorder.js";
import { Listeners } from "../../hal/listeners.js";
import { rtp } from "./helpers/rtp-packet.js";
import { startSimRecorder } from "./helpers/sim-recorder.js";

const silent = pino({ level: "silent" });

const nal = (type: number, size: number) => Buffer.concat([Buffer.from([0x60 | type]), Buffer.alloc(size - 1, 7)]);

/**
 * A synthetic camera (10 fps, 1 s GOP, SPS/PPS/IDR then P slices) and microphone (20 ms Opus),
 * driven by a simulated clock: an hour of recording runs in seconds, nothing waits for wall time.
 */
class SimulatedRun {
  now = Date.parse("2026-11-25T00:00:00Z");
  video = new Listeners<[Buffer]>();
  mic = new Listeners<[Buffer]>();
  officer = new Listeners<[Buffer]>();
  private vseq = 0;
  private aseq = 0;
  private frame = 0;

  /** Advance by one second of media. */
  second(): void {
    for (let f = 0; f < 10; f++) {
      const ts = this.frame * 9000;
      if (this.frame % 10 === 0) {
        this.video.emit(rtp(96, this.vseq++, ts, 1, nal(7, 12), false));
        this.video.emit(rtp(96, this.vseq++, ts, 1, nal(8, 4), false));
        this.video.emit(rtp(96, this.vseq++, ts, 1, nal(5, 8000), true));
      } else this.video.emit(rtp(96, this.vseq++, ts, 1, nal(1, 2000), true));
      this.frame++;
      for (let a = 0; a < 5; a++) {
        this.mic.emit(rtp(111, this.aseq, this.aseq * 960, 2, Buffer.alloc(60, 1), false));
        this.aseq++;
        this.now += 20;
      }
    }
  }
}

describe("disk pressure over a long simulated run (continuous mode)", () => {
  let dir = "";
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("usage stays under the quota, continuous segments go first, unconfirmed clips survive; record.full when they alone overflow", async () => {
    dir = await mkdtemp(join(process.platform === "linux" ? "/dev/shm" : tmpdir(), "pillar-quota-"));
    const sim = new SimulatedRun();
    const bus = createBus();
    const faults: string[] = [];
    bus.on("fault.raised", (f) => faults.push(`raised ${f.component}.${f.code}`));
    bus.on("fault.cleared", (f) => faults.push(`cleared ${f.component}.${f.code}`));
    const settings: RecordSettings = {
      mode: "continuous",
      preRollS: 3,
      postRollS: 2,
      preRollMaxMb: 8,
      fragmentMs: 1000,
      quotaMb: 2,
      retentionDays: 30,
      segmentS: 10,
    };
    const quota = settings.quotaMb * 1024 * 1024;
    const store = new ClipStore(dir, silent);
    await store.open();
    const { recorder } = await startSimRecorder({
      bus,
      store,
      settings,
      video: { width: 320, height: 180, fps: 10 },
      now: () => sim.now,
      media: sim,
    });
    let maxUsage = 0;
    const run = async (seconds: number) => {
      for (let i = 0; i < seconds; i++) {
        sim.second();
        await recorder.settled();
        maxUsage = Math.max(maxUsage, store.usage());
      }
    };
    const incident = async (id: string, seconds: number) => {
      bus.emit("incident.state", { state: "alarm", incidentId: id, at: sim.now });
      await run(seconds);
      bus.emit("incident.state", { state: "idle", incidentId: null, at: sim.now });
      await run(settings.postRollS + 2);
      return store.list().find((c) => c.incidentId === id)!;
    };

    await run(120); // two minutes of continuous segments: the ring turns
    const first = await incident("inc-1", 20);
    const second = await incident("inc-2", 20);
    await run(30 * 60); // half an hour more
    expect(maxUsage).toBeLessThanOrEqual(quota);
    const clips = store.list();
    expect(clips.filter((c) => c.kind === "incident").map((c) => c.id)).toEqual([first.id, second.id]);
    expect(clips.filter((c) => c.kind === "continuous").length).toBeGreaterThan(0);
    expect(faults).toEqual([]);

    // The center has the first clip: from now on it may go for space, and does.
    await store.update(first.id, { confirmed: true });
    const more: string[] = [];
    for (let i = 3; i <= 5; i++) more.push((await incident(`inc-${i}`, 25)).id);
    await run(60);
    expect(store.get(first.id)).toBeUndefined();
    // Unconfirmed clips alone exceed the quota: every one survives, record.full is raised and
    // continuous recording stops, while a new incident is still recorded.
    for (const id of [second.id, ...more]) expect(store.get(id)).toMatchObject({ state: "complete", confirmed: false });
    expect(faults).toContain("raised record.full");
    expect(store.list().filter((c) => c.kind === "continuous")).toEqual([]);
    const late = await incident("inc-6", 10);
    expect(late.state).toBe("complete");
    // Confirmed by the center: the pressure goes, the fault clears, the ring starts again.
    for (const c of store.list()) await store.update(c.id, { confirmed: true });
    recorder.enforce();
    await run(30);
    expect(faults[faults.length - 1]).toBe("cleared record.full");
    expect(store.usage()).toBeLessThanOrEqual(quota);
    expect(store.list().some((c) => c.kind === "continuous")).toBe(true);
    await recorder.stop();
    const files = (await readdir(dir)).filter((f) => f.endsWith(".mp4")).sort();
    expect(files).toEqual(
      store
        .list()
        .map((c) => c.file)
        .sort(),
    );
  }, 120_000);
});
