/**
 * The recording's figures:
 * - record_cpu_ratio_to_encoder: CPU the recorder spends on an answered call's media ÷ the sim
 *   encoder's CPU for the same media. 10 s of the sim camera (720p30, 2 Mbit/s) and mic are
 *   captured first (the encoder's CPU measured over them), then replayed into a Recorder (mic
 *   as both call directions) writing a real incident clip; its CPU is this process's
 *   (user + system, fsync included) during the replay.
 * - record_write_amplification: bytes this process wrote to disk (/proc/self/io write_bytes:
 *   clip, fsyncs, index) ÷ media bytes in the clip.
 * - record_idle_disk_bytes_per_min: bytes written by a recorder in `incident` mode fed a
 *   minute of media without a press (goal 0: the pre-roll stays in memory).
 * - snapshot_ms: press → snapshot message received, median of BENCH_SNAPSHOTS (default 5)
 *   presses on a real pillar process (sim camera 720p30, recording on).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { pino } from "pino";
import { SimCamera } from "../../hal/sim/sim-camera.js";
import { SimMicrophone } from "../../hal/sim/sim-mic.js";
import { createBus } from "../../src/bus/events.js";
import { ClipStore } from "../../src/recording/clip-store.js";
import type { RecordSettings } from "../../src/recording/recorder.js";
import { startSimRecorder } from "../recording/helpers/sim-recorder.js";
import { sleep, waitFor } from "../support/wait.js";
import { TestMosquitto } from "../support/mosquitto.js";
import { PillarProcess } from "../support/pillar-process.js";
import { testConfigDoc } from "../support/sim-pillar.js";
import { cpuSeconds, percentile, round } from "./proc-stats.js";

const silent = pino({ level: "silent" });
const SETTINGS: RecordSettings = {
  mode: "incident",
  preRollS: 3,
  postRollS: 0,
  preRollMaxMb: 32,
  fragmentMs: 500,
  quotaMb: 4096,
  retentionDays: 30,
  segmentS: 60,
};

interface Captured {
  at: number;
  kind: "video" | "mic";
  p: Buffer;
}

async function writeBytes(): Promise<number> {
  const io = await readFile("/proc/self/io", "utf8");
  return Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? 0);
}

/** 10 s of the sim camera's RTP and the sim mic's Opus, with the encoder's CPU over them. */
export async function capture(seconds: number): Promise<{ packets: Captured[]; encoderCpuS: number }> {
  const camera = new SimCamera({ width: 1280, height: 720, fps: 30, bitrateKbps: 2000, rotation: 0 }, "bench-rec");
  const mic = new SimMicrophone({ bitrateKbps: 24, gainDb: 0 });
  const packets: Captured[] = [];
  let on = false;
  camera.onRtp((p) => on && packets.push({ at: Date.now(), kind: "video", p }));
  mic.onRtp((p) => on && packets.push({ at: Date.now(), kind: "mic", p }));
  try {
    await Promise.all([camera.start(), mic.start()]);
    await waitFor(() => camera.pid() && packets.length === 0, "camera packets", 20_000);
    await sleep(2000);
    on = true;
    const c0 = await cpuSeconds(camera.pid()!);
    await sleep(seconds * 1000);
    const c1 = await cpuSeconds(camera.pid()!);
    on = false;
    return { packets, encoderCpuS: c1 - c0 };
  } finally {
    await Promise.all([camera.stop(), mic.stop()]);
  }
}

/** Replay captured media into a Recorder on a simulated clock; `press` makes it an incident clip. */
export async function replay(dir: string, packets: Captured[], press: boolean) {
  const store = new ClipStore(dir, silent);
  await store.open();
  const bus = createBus();
  let now = packets[0]!.at;
  const { recorder, media } = await startSimRecorder({
    bus,
    store,
    settings: SETTINGS,
    video: { width: 1280, height: 720, fps: 30 },
    now: () => now,
  });
  const { video, mic, officer } = media;
  const w0 = await writeBytes();
  const cpu0 = process.cpuUsage();
  if (press) bus.emit("incident.state", { state: "alarm", incidentId: "bench-inc", at: now });
  for (const c of packets) {
    now = c.at;
    if (c.kind === "video") video.emit(c.p);
    else {
      mic.emit(c.p);
      officer.emit(c.p);
    }
    if (c.kind === "video" && c.p.length < 200) await recorder.settled(); // let the writes go as in real time
  }
  if (press) bus.emit("incident.state", { state: "idle", incidentId: null, at: now });
  now += 1000;
  video.emit(packets.find((c) => c.kind === "video")!.p); // a tick past the post-roll
  await recorder.stop();
  const cpu = process.cpuUsage(cpu0);
  const written = (await writeBytes()) - w0;
  const clip = store.list()[0];
  return { cpuS: (cpu.user + cpu.system) / 1e6, written, clip, mediaBytes: recorder.mediaBytesWritten };
}

async function snapshotMs(presses: number): Promise<number[]> {
  const mosq = await new TestMosquitto().start();
  const dir = await mkdtemp(join(tmpdir(), "record-bench-"));
  const doc = testConfigDoc({
    pillar: { id: "bench-rec" },
    dataDir: join(dir, "data"),
    broker: { url: mosq.url, reconnectMs: 200 },
    call: { bindAddress: "127.0.0.1", camera: { width: 1280, height: 720, fps: 30, bitrateKbps: 2000 } },
    record: { mode: "incident", preRollS: 3, postRollS: 3 },
  });
  const pillar = new PillarProcess(await PillarProcess.writeConfig(dir, doc));
  const center = await mqtt.connectAsync(mosq.url, { clientId: "bench-rec-center", protocolVersion: 4 });
  const got: { at: number; m: Record<string, any> }[] = [];
  center.on("message", (_t, payload) => got.push({ at: Date.now(), m: JSON.parse(payload.toString()) }));
  await center.subscribeAsync("pillar/v1/bench-rec/snapshot", { qos: 1 });
  const ms: number[] = [];
  try {
    await pillar.start(40_000);
    await waitFor(
      async () => ((await pillar.http("GET", "/recording")).preRoll?.spanMs ?? 0) > 2000,
      "pre-roll",
      40_000,
    );
    for (let i = 0; i < presses; i++) {
      const pressedAt = Date.now();
      await pillar.click();
      const snap = await waitFor(() => got[i], "snapshot", 20_000);
      ms.push(snap.at - pressedAt);
      for (const cmd of ["incident.ack", "incident.close"]) {
        await center.publishAsync(
          `pillar/v1/bench-rec/cmd/${cmd}`,
          JSON.stringify({ correlationId: `b-${cmd}-${i}`, incidentId: snap.m.incidentId }),
          { qos: 1 },
        );
      }
      await waitFor(async () => (await pillar.http("GET", "/state")).incident.state === "idle", "idle", 20_000);
    }
    return ms.sort((a, b) => a - b);
  } finally {
    await center.endAsync(true);
    await pillar.kill("SIGTERM");
    await mosq.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runRecordBench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), "record-bench-"));
  try {
    const { packets, encoderCpuS } = await capture(10);
    await replay(join(dir, "warm-up"), packets, true); // JIT warm-up: a long-running pillar is warm
    const call = await replay(join(dir, "call"), packets, true);
    if (!call.clip?.sha256) throw new Error("the replay wrote no complete clip");
    const mediaBytes = call.mediaBytes;
    const spanMin = (packets[packets.length - 1]!.at - packets[0]!.at) / 60_000;
    const idle = await replay(join(dir, "idle"), packets, false);
    const snaps = await snapshotMs(Number(process.env.BENCH_SNAPSHOTS ?? 5));
    return {
      record_cpu_ratio_to_encoder: round(call.cpuS / encoderCpuS, 4),
      record_idle_cpu_ratio_to_encoder: round(idle.cpuS / encoderCpuS, 4),
      record_cpu_pct_of_core: round((call.cpuS / (spanMin * 60)) * 100, 2),
      record_write_amplification: round(Math.max(call.written, call.clip.bytes) / mediaBytes, 3),
      record_container_overhead: round(call.clip.bytes / mediaBytes, 3),
      record_idle_disk_bytes_per_min: round(idle.written / spanMin, 0),
      snapshot_ms: round(percentile(snaps, 50), 0),
      snapshot_max_ms: round(snaps[snaps.length - 1]!, 0),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runRecordBench()));
  process.exit(0);
}
