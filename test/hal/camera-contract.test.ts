/**
 * The camera contract (hal/camera.ts), the same cases on every camera driver that runs here: the
 * sim camera (ffmpeg testsrc2 → libx264 → RTP) and the rpicam driver's real pipeline with a
 * stand-in rpicam-vid (test/support/stand-in-rpicam.ts). V4L2 needs a /dev/video device.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CAMERA_RTP_PAYLOAD_TYPE, type Camera, RTP_PACKET_SIZE } from "../../hal/camera.js";
import { type ProcessCamera, RpicamCamera } from "../../hal/camera-drivers.js";
import { SimCamera } from "../../hal/sim/sim-camera.js";
import { parseRtp, startsKeyframe } from "../../src/call/rtp.js";
import { pidAlive } from "../support/processes.js";
import { StandInRpicam } from "../support/stand-in-rpicam.js";
import { sleep, waitFor } from "../support/wait.js";

const SETTINGS = { width: 320, height: 180, fps: 10, bitrateKbps: 300, rotation: 0 };
const CAMERAS: Record<string, () => Camera> = {
  sim: () => new SimCamera(SETTINGS, "pillar-contract"),
  rpicam: () => new RpicamCamera(SETTINGS),
};

describe.each(Object.keys(CAMERAS))("camera contract: %s driver", (driver) => {
  const rpicam = new StandInRpicam();
  let cam: Camera | undefined;
  let pids: number[] = [];
  beforeAll(() => void rpicam.install());
  afterAll(() => rpicam.dispose());
  afterEach(async () => {
    await cam?.stop();
    cam = undefined;
    for (const p of pids) expect(pidAlive(p)).toBe(false);
    pids = [];
  });

  const started = async () => {
    cam = CAMERAS[driver]!();
    const packets: Buffer[] = [];
    cam.onRtp((p) => packets.push(p));
    await cam.start();
    pids.push(...(cam as ProcessCamera).pids()); // every process of the pipeline
    return { cam, packets };
  };
  /** Distinct RTP timestamps of keyframes seen so far. */
  const keyframes = (packets: Buffer[]) =>
    new Set(packets.filter((p) => startsKeyframe(p)).map((p) => p.readUInt32BE(4))).size;

  it("start() resolves with the encoder running; H.264 RTP arrives in order, keyframes carry SPS/PPS, 1 s GOP", async () => {
    const { cam, packets } = await started();
    expect(cam.driver).toBe(driver);
    expect(pidAlive(cam.pid())).toBe(true);
    await waitFor(() => keyframes(packets) >= 2, "two keyframes (the GOP is short)", 30_000);
    // a GOP of at most one second of media time (RTP video clock: 90 kHz)
    const kts = [...new Set(packets.filter((p) => startsKeyframe(p)).map((p) => p.readUInt32BE(4)))];
    expect((kts[1]! - kts[0]! + 2 ** 32) % 2 ** 32).toBeLessThanOrEqual(90_000);
    const headers = packets.map((p) => parseRtp(p));
    expect(new Set(headers.map((h) => h?.payloadType))).toEqual(new Set([CAMERA_RTP_PAYLOAD_TYPE]));
    expect(Math.max(...packets.map((p) => p.length))).toBeLessThanOrEqual(RTP_PACKET_SIZE);
    // in arrival order = the encoder's order: every sequence number moves forward (mod 2^16)
    const seq = headers.map((h) => h!.seq);
    expect(
      seq.every(
        (s, i) => i === 0 || ((s - seq[i - 1]! + 65536) % 65536 > 0 && (s - seq[i - 1]! + 65536) % 65536 < 100),
      ),
    ).toBe(true);
  });

  it("a dying encoder is reported once to onFault, restarted, and onRecover hears the first packet after", async () => {
    const { cam, packets } = await started();
    const faults: Error[] = [];
    let recovered = 0;
    cam.onFault((e) => faults.push(e));
    cam.onRecover(() => recovered++);
    await waitFor(() => packets.length > 0, "packets");
    const old = cam.pid()!;
    process.kill(old, "SIGKILL"); // the test's action: the encoder crashes
    await waitFor(() => faults.length === 1, "the fault");
    await waitFor(() => recovered === 1, "the recovery", 30_000);
    expect(cam.pid()).not.toBe(old);
    pids.push(...(cam as ProcessCamera).pids());
    expect(faults).toHaveLength(1);
    const n = packets.length;
    await waitFor(() => packets.length > n, "packets from the new encoder");
  });

  it("stop() kills the encoder, is idempotent and never throws; nothing is delivered after it", async () => {
    const { cam, packets } = await started();
    await waitFor(() => packets.length > 0, "packets");
    await cam.stop();
    await expect(cam.stop()).resolves.toBeUndefined();
    for (const p of pids) expect(pidAlive(p)).toBe(false);
    expect(cam.pid()).toBeUndefined();
    const n = packets.length;
    await sleep(300); // a wrong driver would still deliver
    expect(packets.length).toBe(n);
  });
});
