/**
 * The microphone and speaker contracts (hal/audio.ts), the same cases on every audio driver that
 * runs here: the sim drivers (ffmpeg lavfi; a level meter) and the ALSA process drivers on ALSA's
 * `null` device (real ffmpeg capture and playback, no sound card needed).
 */
import { afterEach, describe, expect, it } from "vitest";
import { MIC_RTP_PAYLOAD_TYPE, type Microphone, type Speaker } from "../../hal/audio.js";
import { AlsaMicrophone, AlsaSpeaker, type FfmpegSpeaker } from "../../hal/audio-drivers.js";
import { SimMicrophone } from "../../hal/sim/sim-mic.js";
import { SimSpeaker } from "../../hal/sim/sim-speaker.js";
import { parseRtp } from "../../src/call/rtp.js";
import { pidAlive } from "../support/processes.js";
import { sleep, waitFor } from "../support/wait.js";

const MICS: Record<string, () => Microphone> = {
  sim: () => new SimMicrophone({ bitrateKbps: 24, gainDb: 0 }),
  alsa: () => new AlsaMicrophone({ device: "null", bitrateKbps: 24, gainDb: 0 }),
};
const SPEAKERS: Record<string, () => Speaker> = {
  sim: () => new SimSpeaker({ volume: 80 }),
  alsa: () => new AlsaSpeaker({ device: "null", volume: 80 }),
};

/** Everything a case started, stopped after it; every pid seen must be gone. */
const running: { stop(): Promise<void> }[] = [];
const pids: number[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
  for (const p of pids.splice(0)) expect(pidAlive(p)).toBe(false);
});

async function startMic(make: () => Microphone): Promise<{ mic: Microphone; packets: Buffer[] }> {
  const mic = make();
  running.push(mic);
  const packets: Buffer[] = [];
  mic.onRtp((p) => packets.push(p));
  await mic.start();
  if (mic.pid()) pids.push(mic.pid()!);
  return { mic, packets };
}

describe.each(Object.keys(MICS))("microphone contract: %s driver", (driver) => {
  it("start() resolves with the capture running; Opus RTP (PT 111) arrives", async () => {
    const { mic, packets } = await startMic(MICS[driver]!);
    expect(mic.driver).toBe(driver);
    expect(pidAlive(mic.pid())).toBe(true);
    await waitFor(() => packets.length >= 10, "ten packets");
    expect(new Set(packets.map((p) => parseRtp(p)?.payloadType))).toEqual(new Set([MIC_RTP_PAYLOAD_TYPE]));
  });

  it("a dying capture is reported once to onFault, restarted, and onRecover hears the first packet after", async () => {
    const { mic, packets } = await startMic(MICS[driver]!);
    const faults: Error[] = [];
    let recovered = 0;
    mic.onFault((e) => faults.push(e));
    mic.onRecover(() => recovered++);
    await waitFor(() => packets.length > 0, "packets");
    const old = mic.pid()!;
    process.kill(old, "SIGKILL"); // the test's action: the capture crashes
    await waitFor(() => recovered === 1, "the recovery", 30_000);
    expect(faults).toHaveLength(1);
    expect(mic.pid()).not.toBe(old);
    pids.push(mic.pid()!);
  });

  it("setGain() applies without a fault and packets keep coming; stop() is idempotent and ends them", async () => {
    const { mic, packets } = await startMic(MICS[driver]!);
    const faults: Error[] = [];
    mic.onFault((e) => faults.push(e));
    await waitFor(() => packets.length > 0, "packets");
    mic.setGain(6);
    const n = packets.length;
    await waitFor(() => packets.length > n + 5 && !!mic.pid(), "packets at the new gain");
    pids.push(mic.pid()!);
    expect(faults).toEqual([]);
    await mic.stop();
    await expect(mic.stop()).resolves.toBeUndefined();
    expect(mic.pid()).toBeUndefined();
    const m = packets.length;
    await sleep(300); // a wrong driver would still deliver
    expect(packets.length).toBe(m);
  });
});

describe.each(Object.keys(SPEAKERS))("speaker contract: %s driver", (driver) => {
  /** Real Opus RTP to play: the sim microphone's. */
  async function voice(): Promise<Buffer[]> {
    const { packets } = await startMic(MICS.sim!);
    await waitFor(() => packets.length >= 25, "25 Opus packets");
    return packets;
  }

  it("packets before start() are dropped; started, it plays what it is given and never throws", async () => {
    const packets = await voice();
    const speaker = SPEAKERS[driver]!();
    running.push(speaker);
    expect(speaker.driver).toBe(driver);
    expect(() => {
      for (const p of packets.slice(0, 5)) speaker.play(p);
    }).not.toThrow();
    expect((speaker as FfmpegSpeaker).played).toBe(0);
    expect(speaker.pid()).toBeUndefined();
    await speaker.start();
    pids.push(speaker.pid()!);
    expect(pidAlive(speaker.pid())).toBe(true);
    const n = packets.length;
    await waitFor(() => packets.length > n + 10, "more voice");
    expect(() => {
      for (const p of packets.slice(n)) speaker.play(p);
    }).not.toThrow();
    expect((speaker as FfmpegSpeaker).played).toBeGreaterThan(0);
    expect(() => (speaker.setVolume(40), speaker.beep(50))).not.toThrow();
  });

  it("a dying playback is reported to onFault and restarted while started", async () => {
    const speaker = SPEAKERS[driver]!();
    running.push(speaker);
    const faults: Error[] = [];
    speaker.onFault((e) => faults.push(e));
    await speaker.start();
    const old = speaker.pid()!;
    pids.push(old);
    process.kill(old, "SIGKILL"); // the test's action: the decoder crashes
    await waitFor(() => faults.length === 1, "the fault");
    await waitFor(() => speaker.pid() !== undefined && speaker.pid() !== old, "a new decoder");
    pids.push(speaker.pid()!);
  });

  it("stop() ends the playback, is idempotent; packets after it are dropped", async () => {
    const packets = await voice();
    const speaker = SPEAKERS[driver]!();
    running.push(speaker);
    await speaker.start();
    pids.push(speaker.pid()!);
    await speaker.stop();
    await expect(speaker.stop()).resolves.toBeUndefined();
    expect(speaker.pid()).toBeUndefined();
    const played = (speaker as FfmpegSpeaker).played;
    expect(() => {
      for (const p of packets) speaker.play(p);
    }).not.toThrow();
    expect((speaker as FfmpegSpeaker).played).toBe(played);
  });
});
