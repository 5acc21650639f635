import { execFile } from "node:child_process";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createBus } from "../../src/bus/events.js";
import { type ClipFileHandle, scanClip } from "../../src/recording/clip-file.js";
import { ClipStore } from "../../src/recording/clip-store.js";
import type { RecordSettings } from "../../src/recording/recorder.js";
import { waitFor } from "../support/wait.js";
import { rtp } from "./helpers/rtp-packet.js";
import { startSimRecorder } from "./helpers/sim-recorder.js";

const run = promisify(execFile);
const silent = pino({ level: "silent" });
const FPS = 10;

/** Real H.264 from ffmpeg (320×180, 10 fps, a keyframe every second), split into access units. */
async function h264AccessUnits(dir: string, seconds: number): Promise<Buffer[][]> {
  const file = join(dir, "src.h264");
  await run("ffmpeg", [
    ...["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", `testsrc=size=320x180:rate=${FPS}`],
    ...["-t", String(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-x264-params", `keyint=${FPS}:scenecut=0`],
    ...["-bsf:v", "h264_mp4toannexb", "-f", "h264", file],
  ]);
  const data = await readFile(file);
  const nalus: Buffer[] = [];
  let start = -1;
  for (let i = 0; i + 3 <= data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) nalus.push(trimZeros(data.subarray(start, i)));
      start = i + 3;
      i += 2;
    }
  }
  if (start >= 0) nalus.push(data.subarray(start));
  const units: Buffer[][] = [];
  let au: Buffer[] = [];
  for (const n of nalus) {
    au.push(n);
    const type = n[0]! & 0x1f;
    if (type === 1 || type === 5) {
      units.push(au);
      au = [];
    }
  }
  return units;
}

function trimZeros(b: Buffer): Buffer {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.subarray(0, end);
}

/** A card whose fsyncs wait until the test lets them go (the first one, the init segment's, passes). */
class HeldCard {
  syncs = 0;
  private held = true;
  private waiting: (() => void)[] = [];

  open = async (path: string): Promise<ClipFileHandle> => {
    const fh = await open(path, "wx");
    return {
      write: fh.write.bind(fh) as ClipFileHandle["write"],
      close: () => fh.close(),
      sync: async () => {
        this.syncs++;
        if (this.syncs > 1 && this.held) await new Promise<void>((r) => this.waiting.push(r));
        await fh.sync();
      },
    };
  };

  release(): void {
    this.held = false;
    for (const w of this.waiting.splice(0)) w();
  }
}

/** A recorder in incident mode fed by a simulated clock (no wall time), on a held card. */
async function rig(dir: string, card: HeldCard, maxBacklogBytes?: number) {
  const store = new ClipStore(join(dir, "clips"), silent, { openFile: card.open, maxBacklogBytes });
  await store.open();
  const bus = createBus();
  const faults: string[] = [];
  bus.on("fault.raised", (f) => faults.push(`raised ${f.component}.${f.code}`));
  bus.on("fault.cleared", (f) => faults.push(`cleared ${f.component}.${f.code}`));
  const settings: RecordSettings = {
    mode: "incident",
    preRollS: 1,
    postRollS: 0,
    preRollMaxMb: 8,
    fragmentMs: 200,
    quotaMb: 64,
    retentionDays: 30,
    segmentS: 60,
  };
  let now = Date.parse("2026-11-25T12:00:00Z");
  const { recorder, media } = await startSimRecorder({
    bus,
    store,
    settings,
    video: { width: 320, height: 180, fps: FPS },
    now: () => now,
  });
  let vseq = 0;
  let frame = 0;
  const feed = (units: Buffer[][]) => {
    for (const au of units) {
      for (const [i, n] of au.entries()) media.video.emit(rtp(96, vseq++, frame * 9000, 96, n, i === au.length - 1));
      frame++;
      now += 1000 / FPS;
    }
  };
  const press = () => bus.emit("incident.state", { state: "alarm", incidentId: "inc-slow", at: now });
  const end = async (last: Buffer[][]) => {
    bus.emit("incident.state", { state: "idle", incidentId: null, at: now });
    now += 1000;
    feed(last); // a tick past the post-roll
    await recorder.settled();
    await recorder.stop();
  };
  return { store, recorder, feed, press, end, faults };
}

describe("recording on a slow card (fsync slower than a fragment)", () => {
  let dir = "";
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("fragments that wait behind a slow fsync are written together: fewer fsyncs than fragments, the clip decodes cleanly", async () => {
    dir = await mkdtemp(join(tmpdir(), "pillar-slow-card-"));
    const units = await h264AccessUnits(dir, 5);
    const card = new HeldCard();
    const r = await rig(dir, card);
    r.feed(units.slice(0, FPS)); // one second of pre-roll
    r.press();
    r.feed(units.slice(FPS, FPS + 3)); // the first fragment reaches the card, whose fsync is held
    await waitFor(() => card.syncs === 2, "the first fragment's fsync", 10_000, 5);
    r.feed(units.slice(FPS + 3, 4 * FPS)); // three seconds more while the card holds that fsync
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); // let every write start that can
    const heldSyncs = card.syncs;
    card.release();
    await r.end(units.slice(4 * FPS, 4 * FPS + 1));
    const clip = r.store.list().find((c) => c.incidentId === "inc-slow");
    expect(clip?.state).toBe("complete");
    const path = join(dir, "clips", clip!.file);
    const scan = await scanClip(path);
    // ≥ 15 fragments of 200 ms; while the card held one fsync, the rest waited in one batch.
    expect(scan.fragments).toBeGreaterThanOrEqual(15);
    expect(heldSyncs).toBe(2); // the init segment's, and the first fragment's (held)
    expect(card.syncs - 1).toBeLessThan(scan.fragments);
    const { stderr } = await run("ffmpeg", [
      "-hide_banner",
      "-v",
      "error",
      "-i",
      path,
      "-map",
      "0:v",
      "-f",
      "null",
      "-",
    ]);
    expect(stderr.trim()).toBe("");
    const { stdout } = await run("ffprobe", [
      ...["-v", "error", "-select_streams", "v:0", "-count_frames"],
      ...["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path],
    ]);
    expect(Number(stdout.trim())).toBeGreaterThanOrEqual(4 * FPS);
    expect(r.faults).toEqual([]);
  }, 60_000);

  it("a card that falls too far behind: the backlog stays bounded, fragments are dropped and counted, one record.write fault", async () => {
    dir = await mkdtemp(join(tmpdir(), "pillar-slow-card-"));
    const units = await h264AccessUnits(dir, 5);
    const card = new HeldCard();
    const cap = 8 * 1024;
    const r = await rig(dir, card, cap);
    r.feed(units.slice(0, FPS));
    r.press();
    r.feed(units.slice(FPS, FPS + 3));
    await waitFor(() => card.syncs === 2, "the first fragment's fsync", 10_000, 5);
    r.feed(units.slice(FPS + 3, 4 * FPS));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    const mediaFed = units.slice(0, 4 * FPS).reduce((n, au) => n + au.reduce((m, b) => m + b.length, 0), 0);
    expect(mediaFed).toBeGreaterThan(2 * cap); // more than the backlog may hold
    expect(r.faults).toEqual(["raised record.write"]);
    expect(r.recorder.lastError).toMatch(/disk too slow: fragment dropped/);
    card.release();
    await r.end(units.slice(4 * FPS, 4 * FPS + 1));
    const clip = r.store.list().find((c) => c.incidentId === "inc-slow");
    expect(clip?.state).toBe("complete");
    const scan = await scanClip(join(dir, "clips", clip!.file));
    expect(scan.fragments).toBeGreaterThan(0);
    // What reached the card is bounded by the backlog plus the one fragment in flight.
    expect(scan.bytes).toBeLessThan(mediaFed / 2);
  }, 60_000);
});
